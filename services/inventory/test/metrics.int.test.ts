// Inventory's metrics through the real service: RPC durations, hold outcomes, StockLow, the sweeper's tally and the
// expired-hold backlog, read from an in-process metric reader installed before start().
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { RPC_SERVER_DURATION } from '@o2o/kit-grpc';
import { startMetricCapture, type MetricCapture } from '@o2o/kit-telemetry';
import {
  EXPIRED_HOLD_BACKLOG,
  EXPIRED_HOLD_OLDEST_AGE,
  HOLDS,
  STOCK_LOW,
  SWEEPER_HOLDS,
} from '../src/adapters/inventory-metrics';
import { type Harness, refusal, skuCode, startHarness } from './harness';

let capture: MetricCapture;
let h: Harness;
const STORE = 'sh-metrics-store';

beforeAll(async () => {
  capture = startMetricCapture();
  h = await startHarness({ METRICS_QUERY_INTERVAL_MS: '0' });
  await h.addLocation(STORE);
});
afterAll(async () => {
  await h?.close();
  await capture?.stop();
});

async function byAttribute(name: string, attribute: string): Promise<Record<string, number>> {
  const points = await capture.points(name);
  return Object.fromEntries(points.map((p) => [String(p.attributes[attribute]), p.value]));
}

async function total(name: string): Promise<number> {
  return (await capture.points(name)).reduce((sum, p) => sum + p.value, 0);
}

function hold(sku: string, quantity: number, expireTime?: Date) {
  const holdId = randomUUID();
  return {
    holdId,
    ownerId: `order-${holdId}`,
    lines: [{ skuCode: sku, locationId: STORE, quantity: String(quantity) }],
    expireTime,
  };
}

it('counts hold outcomes, StockLow, the sweeper and the expired-hold backlog', async () => {
  const sku = skuCode('metrics');
  await h.announceSkus([sku]);
  await h.receive(sku, STORE, 10);
  await h.client.setStockPolicy({
    requestId: randomUUID(),
    skuCode: sku,
    locationId: STORE,
    safetyStock: '0',
    lowStockThreshold: '3',
  });

  const released = hold(sku, 2);
  const committed = hold(sku, 2);
  const expiring = hold(sku, 5, new Date(Date.now() + 1000)); // leaves 1 available: StockLow
  for (const request of [released, committed, expiring]) await h.client.reserve(request);
  await h.client.releaseHold({ holdId: released.holdId, reason: 'basket emptied' });
  await h.client.releaseHold({ holdId: released.holdId, reason: 'repeat' }); // a repeat is no new outcome
  await h.client.commitHold({ holdId: committed.holdId });
  expect((await refusal(h.client.reserve(hold(sku, 4)))).code).toBe(status.FAILED_PRECONDITION);

  expect(await byAttribute(HOLDS, 'outcome')).toEqual({ reserved: 3, released: 1, committed: 1 });
  expect(await total(STOCK_LOW)).toBe(1);

  // Past its expiry and not yet swept: the backlog shows it, with its age.
  await new Promise((r) => setTimeout(r, 1200));
  await waitForGauge(EXPIRED_HOLD_BACKLOG, (v) => v === 1);
  expect(await total(EXPIRED_HOLD_OLDEST_AGE)).toBeGreaterThan(0);

  expect((await h.service.sweep()).expired).toBe(1);
  expect(await byAttribute(HOLDS, 'outcome')).toEqual({ reserved: 3, released: 1, committed: 1, expired: 1 });
  expect((await byAttribute(SWEEPER_HOLDS, 'action')).expired).toBe(1);
  await waitForGauge(EXPIRED_HOLD_BACKLOG, (v) => v === 0);
  expect(await total(EXPIRED_HOLD_OLDEST_AGE)).toBe(0);

  // Every RPC was timed under the inventory service's name, refusals with their status.
  const rpcs = await capture.points(RPC_SERVER_DURATION);
  const reserve = (code: number) =>
    rpcs.find(
      (p) =>
        p.attributes['rpc.service'] === 'o2o.inventory.v1.InventoryService' &&
        p.attributes['rpc.method'] === 'Reserve' &&
        p.attributes['rpc.grpc.status_code'] === code,
    )?.count;
  expect(reserve(status.OK)).toBe(3);
  expect(reserve(status.FAILED_PRECONDITION)).toBe(1);
});

// The backlog gauges read the database on every collection here (METRICS_QUERY_INTERVAL_MS=0); a read that takes
// longer than the collection waits shows up at the next one.
async function waitForGauge(name: string, ok: (value: number) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await total(name);
    if (ok(value)) return;
    if (Date.now() > deadline) throw new Error(`${name} stayed at ${value}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
