// The relay against the real MongoDB-protocol server (FerretDB here) and the real broker.
import { toCloudEventHeaders, type EventProducer } from '@o2o/kit-kafka';
import { waitFor } from '@o2o/kit-testing';
import { cleanUp, collect, gatedProducer, pause, startHarness, testEvent, type Harness } from './harness';
import { outboxPush, type OutboxEntry } from '../src/outbox-entry';
import type { OutboxBacklog } from '../src/outbox-metrics';
import { startOutboxRelay, type OutboxRelay } from '../src/outbox-relay';

jest.setTimeout(60_000); // jest applies testTimeout only globally, not per project

let h: Harness;
const cleanup: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await cleanUp([...cleanup.splice(0).reverse(), () => h.close()]);
});

function relay(
  producer: EventProducer,
  options: { batchSize?: number; leaseMs?: number; pollIntervalMs?: number; backlog?: OutboxBacklog } = {},
): OutboxRelay {
  const started = startOutboxRelay({
    collection: h.collection,
    producer,
    logger: h.logger,
    pollIntervalMs: 50,
    backoff: { initialMs: 50, maxMs: 300 },
    ...options,
  });
  cleanup.push(() => started.stop());
  return started;
}

async function producer(): Promise<EventProducer> {
  const p = await h.kafka.producer();
  cleanup.push(() => p.disconnect());
  return p;
}

async function consumer() {
  const c = await collect(h.kafka, h.topic);
  cleanup.push(() => c.stop());
  return c;
}

async function outboxOf(id: string): Promise<string[]> {
  const doc = await h.collection.findOne({ _id: id as never });
  return (doc?.outbox as OutboxEntry[] | undefined)?.map((e) => e.id) ?? [];
}

function leases() {
  return h.connection.collection('aggregates_outbox_leases');
}

it('publishes each document’s entries in array order with CloudEvents headers, then removes them', async () => {
  const keys = ['agg-0', 'agg-1', 'agg-2', 'agg-3', 'agg-4'];
  const all: OutboxEntry[] = [];
  for (const key of keys) {
    const first = [testEvent(h.topic, key, 0), testEvent(h.topic, key, 1)];
    await h.collection.insertOne({ _id: key as never, state: 'created', outbox: first });
    // A later state change appends in the same update, as repositories do.
    const later = [testEvent(h.topic, key, 2), testEvent(h.topic, key, 3)];
    await h.collection.updateOne({ _id: key as never }, { $set: { state: 'changed' }, $push: outboxPush(later) });
    all.push(...first, ...later);
  }
  const traced = {
    ...testEvent(h.topic, 'agg-t', 0),
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  };
  await h.collection.insertOne({ _id: 'agg-t' as never, outbox: [traced] });
  const c = await consumer();

  const r = relay(await producer());
  await c.waitForCount(all.length + 1);
  await waitFor(async () => (await r.pending()) === 0, { what: 'an empty outbox' });
  await pause(300); // duplicates would arrive right behind

  for (const key of keys) expect(c.payloadsOf(key)).toEqual([0, 1, 2, 3].map((seq) => `${key}:${seq}`));
  expect([...c.countsById().values()].every((n) => n === 1)).toBe(true);
  const message = c.received.find((m) => m.headers.ce_id === traced.id);
  expect(message?.headers).toEqual(toCloudEventHeaders(traced));
  expect(message?.value.equals(traced.payload)).toBe(true);
  expect(message?.key).toBe('agg-t');
  for (const key of [...keys, 'agg-t']) expect(await outboxOf(key)).toEqual([]);
  expect(await leases().countDocuments({})).toBe(0);
  expect(await h.collection.countDocuments({ state: 'changed' })).toBe(5); // the state is untouched
});

it('keeps entries until the broker acknowledged them, and keeps entries appended during the publish', async () => {
  const e0 = testEvent(h.topic, 'agg-1', 0);
  const e1 = testEvent(h.topic, 'agg-1', 1);
  await h.collection.insertOne({ _id: 'agg-1' as never, outbox: [e0, e1] });
  const c = await consumer();
  const gated = gatedProducer(await producer());
  const r = relay(gated.producer);
  cleanup.push(async () => gated.open()); // so a failed test cannot leave the relay stuck at the gate

  await gated.sending;
  expect(await outboxOf('agg-1')).toEqual([e0.id, e1.id]); // nothing removed before the ack
  expect(await leases().countDocuments({ _id: 'agg-1' as never })).toBe(1); // claimed
  // A concurrent state change appends while the relay is publishing.
  const e2 = testEvent(h.topic, 'agg-1', 2);
  const e3 = testEvent(h.topic, 'agg-1', 3);
  await h.collection.updateOne({ _id: 'agg-1' as never }, { $push: outboxPush([e2, e3]) });
  gated.open();

  await c.waitForCount(4);
  await waitFor(async () => (await r.pending()) === 0, { what: 'an empty outbox' });
  expect(c.payloadsOf('agg-1')).toEqual(['agg-1:0', 'agg-1:1', 'agg-1:2', 'agg-1:3']);
  expect(await outboxOf('agg-1')).toEqual([]);
  expect(await leases().countDocuments({})).toBe(0);
});

it('keeps the events through failed sends, backs off, and publishes each once when the broker accepts again', async () => {
  const events = [0, 1, 2].map((seq) => testEvent(h.topic, 'agg-1', seq));
  await h.collection.insertOne({ _id: 'agg-1' as never, outbox: events });
  const c = await consumer();
  const real = await producer();
  let failuresLeft = 3;
  const failing: EventProducer = {
    async send(messages) {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('simulated: NOT_ENOUGH_REPLICAS');
      }
      await real.send(messages);
    },
    disconnect: async () => undefined,
  };
  const r = relay(failing);

  await waitFor(() => failuresLeft === 0, { what: 'three failed sends' });
  await c.waitForCount(3);
  await waitFor(async () => (await r.pending()) === 0, { what: 'an empty outbox' });
  await pause(300);
  expect(c.payloadsOf('agg-1')).toEqual(['agg-1:0', 'agg-1:1', 'agg-1:2']);
  const warnings = h.logs.filter((l) => l.msg.startsWith('Publishing outbox events failed'));
  expect(warnings).toHaveLength(3);
  expect(JSON.stringify(warnings[0])).toContain('simulated: NOT_ENOUGH_REPLICAS');
  expect(h.logs.some((l) => l.msg === 'Outbox relay recovered')).toBe(true);
});

it('with two relays on one collection, publishes every event exactly once and in order', async () => {
  const keys = Array.from({ length: 40 }, (_, i) => `agg-${i}`);
  await h.collection.insertMany(
    keys.map((key) => ({ _id: key as never, outbox: [testEvent(h.topic, key, 0), testEvent(h.topic, key, 1)] })),
  );
  const c = await consumer();
  const sends = { a: 0, b: 0 };
  const counting = (name: 'a' | 'b', inner: EventProducer): EventProducer => ({
    send: async (m) => {
      sends[name] += 1;
      await inner.send(m);
    },
    disconnect: () => inner.disconnect(),
  });
  const a = relay(counting('a', await producer()), { batchSize: 4 });
  relay(counting('b', await producer()), { batchSize: 4 });

  await c.waitForCount(80);
  await waitFor(async () => (await a.pending()) === 0, { what: 'an empty outbox' });
  await pause(500);
  const counts = c.countsById();
  expect(counts.size).toBe(80);
  expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  for (const key of keys) expect(c.payloadsOf(key)).toEqual([`${key}:0`, `${key}:1`]);
  expect(sends.a).toBeGreaterThan(0); // both relays really took part
  expect(sends.b).toBeGreaterThan(0);
});

it('leaves a document alone while another relay’s lease holds, and takes it over when the lease expires', async () => {
  const e = testEvent(h.topic, 'agg-1', 0);
  await h.collection.insertOne({ _id: 'agg-1' as never, outbox: [e] });
  // As a relay that crashed mid-publish leaves it.
  await leases().insertOne({ _id: 'agg-1' as never, owner: 'crashed-relay', until: new Date(Date.now() + 1_500) });
  await h.collection.insertOne({ _id: 'agg-2' as never, outbox: [testEvent(h.topic, 'agg-2', 0)] });
  const c = await consumer();
  relay(await producer());

  await c.waitForCount(1);
  await pause(700);
  expect(c.received.map((m) => m.key)).toEqual(['agg-2']);
  await c.waitForCount(2, 10_000);
  expect(c.payloadsOf('agg-1')).toEqual(['agg-1:0']);
});

it('stop() lets the publish in flight finish and mark its events before it resolves', async () => {
  await h.collection.insertOne({ _id: 'agg-1' as never, outbox: [testEvent(h.topic, 'agg-1', 0)] });
  const gated = gatedProducer(await producer());
  const r = startOutboxRelay({
    collection: h.collection,
    producer: gated.producer,
    logger: h.logger,
    pollIntervalMs: 50,
  });
  cleanup.push(() => r.stop());
  cleanup.push(async () => gated.open());
  await gated.sending;
  let stopped = false;
  const stopping = r.stop().then(() => (stopped = true));
  await pause(200);
  expect(stopped).toBe(false);
  gated.open();
  await stopping;
  expect(await outboxOf('agg-1')).toEqual([]);
  expect(await leases().countDocuments({})).toBe(0);
});

it('kick() publishes a fresh write without waiting for the next poll', async () => {
  const c = await consumer();
  const r = startOutboxRelay({
    collection: h.collection,
    producer: await producer(),
    logger: h.logger,
    pollIntervalMs: 60_000,
  });
  cleanup.push(() => r.stop());
  await pause(300); // the relay has looked once, found nothing, and sleeps for a minute
  await h.collection.insertOne({ _id: 'agg-1' as never, outbox: [testEvent(h.topic, 'agg-1', 0)] });
  r.kick();
  await c.waitForCount(1, 10_000);
});

it('reads a hinted document by _id at once, without waiting for the poll; a hint with nothing to send is harmless', async () => {
  const c = await consumer();
  let scans = 0; // every scan reports what it saw to the backlog; reads by _id do not
  const backlog: OutboxBacklog = { observed: () => void scans++, untrack: () => undefined };
  const r = relay(await producer(), { pollIntervalMs: 60_000, backlog });
  await waitFor(() => (scans === 1 ? true : undefined)); // the first round scanned; the next scan is a minute away
  await h.collection.insertOne({ _id: 'hinted' as never, outbox: [testEvent(h.topic, 'hinted', 0)] });
  await h.collection.insertOne({ _id: 'empty' as never, outbox: [] });
  const started = Date.now();
  r.kick(['hinted', 'empty', 'missing']);
  await c.waitForCount(1);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(c.received.map((m) => m.key)).toEqual(['hinted']);
  expect(scans).toBe(1);
  await waitFor(async () => ((await outboxOf('hinted')).length === 0 ? true : undefined), { timeoutMs: 5_000 });
  // Every lease the hinted round took is given back.
  await waitFor(async () => ((await leases().countDocuments({})) === 0 ? true : undefined), { timeoutMs: 5_000 });
});

it('keeps scanning at the poll interval while hints keep coming (other replicas’ writes are not starved)', async () => {
  const c = await consumer();
  const r = relay(await producer(), { pollIntervalMs: 300 });
  await h.collection.insertOne({ _id: 'busy' as never, outbox: [] });
  let hinting = true;
  const hinter = (async () => {
    while (hinting) {
      r.kick(['busy']);
      await pause(20);
    }
  })();
  // Written by "another replica": no hint for it.
  await h.collection.insertOne({ _id: 'unhinted' as never, outbox: [testEvent(h.topic, 'unhinted', 0)] });
  await c.waitForCount(1);
  hinting = false;
  await hinter;
  expect(c.received.map((m) => m.key)).toEqual(['unhinted']);
});
