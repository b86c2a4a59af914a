// Stops the real broker while events are written, then starts it again: every event must arrive exactly once.
// Needs the broker that scripts/infra.sh runs, and the integration tests run one file at a time (scripts/test.sh
// passes --runInBand), because other files use the broker too.
import { controlLocalKafka, waitFor } from '@o2o/kit-testing';
import { startOutboxRelay } from '../src/outbox-relay';
import { cleanUp, collect, pause, startHarness, testEvent } from './harness';

jest.setTimeout(240_000); // jest applies testTimeout only globally, not per project

const controllable = process.env.O2O_TEST_INFRA === 'local';
const title = 'publishes 20 events written while the broker was down, each exactly once, after it is back';
// controlLocalKafka() refuses (returns false) for any broker that scripts/infra.sh does not manage.
const skipReason = ' (SKIPPED: the broker is not one scripts/infra.sh manages, so this test cannot stop it)';

(controllable ? it : it.skip)(controllable ? title : title + skipReason, async () => {
  const h = await startHarness();
  const producer = await h.kafka.producer();
  const relay = startOutboxRelay({
    collection: h.collection,
    producer,
    logger: h.logger,
    pollIntervalMs: 100,
    backoff: { initialMs: 200, maxMs: 2_000 },
  });
  try {
    expect(await controlLocalKafka('down')).toBe(true);
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const entry = testEvent(h.topic, `agg-${i}`, 0);
      ids.push(entry.id);
      // Database only: the write succeeds whatever the broker's state.
      await h.collection.insertOne({ _id: `agg-${i}` as never, state: 'placed', outbox: [entry] });
      relay.kick();
    }
    await waitFor(() => h.logs.some((l) => l.msg.startsWith('Publishing outbox events failed')), {
      what: 'a failed publish while the broker is down',
      timeoutMs: 60_000,
    });
    expect(await relay.pending()).toBe(20); // nothing dropped, nothing marked sent

    expect(await controlLocalKafka('up')).toBe(true);
    const c = await collect(h.kafka, h.topic);
    try {
      await c.waitForCount(20, 90_000);
      await waitFor(async () => (await relay.pending()) === 0, { what: 'an empty outbox', timeoutMs: 30_000 });
      await pause(1_000); // a duplicate would arrive right behind
      const counts = c.countsById();
      expect([...counts.keys()].sort()).toEqual([...ids].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(h.logs.some((l) => l.msg === 'Outbox relay recovered')).toBe(true);
    } finally {
      await c.stop();
    }
  } finally {
    // Always, and the broker first: the other test files need it, whatever happened above.
    await cleanUp([() => controlLocalKafka('up'), () => relay.stop(), () => producer.disconnect(), () => h.close()]);
  }
});
