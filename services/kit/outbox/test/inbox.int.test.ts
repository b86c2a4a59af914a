// The consumer-side dedup against the real database (and, end to end, a real broker).
import { toCloudEventHeaders, type IncomingMessage } from '@o2o/kit-kafka';
import { testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import mongoose from 'mongoose';
import { createInbox, dedupe } from '../src/inbox';
import { pause, startHarness, type Harness } from './harness';

jest.setTimeout(60_000); // jest applies testTimeout only globally, not per project

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ partitions: 1 });
});
afterEach(async () => {
  await h.close();
});

function message(eventId: string | undefined, offset = '0'): IncomingMessage {
  const headers: Record<string, string> = eventId ? { ce_id: eventId } : {};
  return { topic: 't', partition: 0, offset, key: 'k', value: Buffer.from('v'), headers };
}

it('records an id once, even when two connections race to record it', async () => {
  const inbox = createInbox(h.connection, { name: 'inbox' });
  expect(await inbox.seen('e-1')).toBe(false);
  expect(await inbox.record('e-1')).toBe(true);
  expect(await inbox.seen('e-1')).toBe(true);
  expect(await inbox.record('e-1')).toBe(false);

  const other = await mongoose.createConnection(testInfra().mongoUrl, { dbName: h.connection.name }).asPromise();
  try {
    const otherInbox = createInbox(other, { name: 'inbox' });
    for (let i = 0; i < 20; i += 1) {
      const results = await Promise.all([inbox.record(`race-${i}`), otherInbox.record(`race-${i}`)]);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  } finally {
    await other.close();
  }
});

it('prunes ids processed before a date and keeps the newer ones', async () => {
  const inbox = createInbox(h.connection, { name: 'inbox' });
  await h.connection.collection('inbox').insertOne({ _id: 'old' as never, processedAt: new Date('2020-01-01') });
  await inbox.record('new');
  expect(await inbox.prune(new Date(Date.now() - 60_000))).toBe(1);
  expect(await inbox.seen('old')).toBe(false);
  expect(await inbox.seen('new')).toBe(true);
});

it('dedupe() runs the handler once per event id, records only after success, and refuses a message without ce_id', async () => {
  const inbox = createInbox(h.connection, { name: 'inbox' });
  const handled: string[] = [];
  let fail = true;
  const handle = dedupe(inbox, async (m) => {
    if (m.offset === '9' && fail) {
      fail = false;
      throw new Error('handler failed');
    }
    handled.push(m.offset);
  });
  await handle(message('e-1', '1'));
  await handle(message('e-1', '2')); // a redelivery or a relay duplicate: skipped
  await expect(handle(message('e-9', '9'))).rejects.toThrow('handler failed');
  expect(await inbox.seen('e-9')).toBe(false); // not recorded: the redelivery must run it
  await handle(message('e-9', '9'));
  expect(handled).toEqual(['1', '9']);
  await expect(handle(message(undefined, '5'))).rejects.toThrow('no ce_id header');
});

it('behind a real consumer, a duplicated event reaches the handler once', async () => {
  const inbox = createInbox(h.connection, { name: 'inbox' });
  const producer = await h.kafka.producer();
  const headers = toCloudEventHeaders({
    id: 'dup-1',
    type: 'o2o.test.v1.X',
    source: '/t',
    subject: 'k',
    time: new Date(),
  });
  const last = toCloudEventHeaders({ id: 'last', type: 'o2o.test.v1.X', source: '/t', subject: 'k', time: new Date() });
  // The same event twice, as the relay sends it after a crash between the ack and the removal.
  for (const h2 of [headers, headers, last])
    await producer.send([{ topic: h.topic, key: 'k', value: Buffer.from(h2.ce_id ?? ''), headers: h2 }]);
  await producer.disconnect();
  const seen: string[] = [];
  const consumer = await h.kafka.consume({
    groupId: uniqueName('inbox'),
    topics: [h.topic],
    fromBeginning: true,
    handle: dedupe(inbox, async (m) => void seen.push(m.value.toString())),
  });
  try {
    await waitFor(() => seen.includes('last'), { what: 'the last event', timeoutMs: 30_000 });
    await pause(200);
  } finally {
    await consumer.stop();
  }
  expect(seen).toEqual(['dup-1', 'last']);
});
