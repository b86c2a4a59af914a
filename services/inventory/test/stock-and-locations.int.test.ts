// Stock adjustments, policies and locations through the real gRPC server, with their events on the real Kafka.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { StockAdjusted, StockLow } from '@o2o/contracts/gen/o2o/inventory/v1/events';
import { AdjustmentReason, LocationKind, LocationStatus } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { waitFor } from '@o2o/kit-testing';
import { collectTopic, type Harness, locationInput, refusal, skuCode, startHarness } from './harness';

let h: Harness;
let topic: Awaited<ReturnType<typeof collectTopic>>;
const STORE = 'bj-wangfujing';

beforeAll(async () => {
  h = await startHarness();
  topic = await collectTopic(h.service.topic);
  await h.addLocation(STORE, { name: 'Wangfujing store', point: { latitude: 39.9149, longitude: 116.4103 } });
});
afterAll(async () => {
  await topic?.stop();
  await h?.close();
});

function adjust(sku: string, reason: AdjustmentReason, quantity: number, requestId = randomUUID()) {
  return h.client.adjustStock({
    requestId,
    skuCode: sku,
    locationId: STORE,
    reason,
    quantity: String(quantity),
    note: 'test',
  });
}

describe('stock adjustments', () => {
  it('receipt, sale, damage, count and restock move on hand; each is an event; a repeat is applied once', async () => {
    const sku = skuCode('adj');
    await h.announceSkus([sku]);
    const receipt = randomUUID();
    expect((await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_RECEIPT, 20, receipt)).applied).toBe(true);
    const repeat = await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_RECEIPT, 20, receipt);
    expect(repeat.applied).toBe(false);
    expect(repeat.stock?.onHand).toBe('20');
    await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_STORE_SALE, 3);
    await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_DAMAGE, 2);
    await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_RETURN_RESTOCK, 1);
    const count = await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_COUNT, 14);
    expect(count.stock).toMatchObject({ onHand: '14', held: '0', available: '14' });

    const key = `${sku}@${STORE}`;
    const events = await waitFor(() => {
      const list = topic.messages.filter((m) => m.key === key);
      return list.length === 5 ? list : undefined;
    });
    expect(events.map((m) => m.headers.ce_type)).toEqual(Array(5).fill('o2o.inventory.v1.StockAdjusted'));
    expect(events.map((m) => StockAdjusted.decode(m.value).delta)).toEqual(['20', '-3', '-2', '1', '-2']);
    expect(StockAdjusted.decode(events[0]!.value).requestId).toBe(receipt);
  });

  it('refuses to take on hand below zero, and changes nothing', async () => {
    const sku = skuCode('neg');
    await h.announceSkus([sku]);
    await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_RECEIPT, 2);
    const error = await refusal(adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_DAMAGE, 3));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain('only 2 on hand');
    expect((await h.client.getStock({ skuCode: sku, locationId: STORE })).stock?.onHand).toBe('2');
  });

  it('bad adjustments are refused with the field at fault', async () => {
    const sku = skuCode('badadj');
    await h.announceSkus([sku]);
    const zero = await refusal(adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_RECEIPT, 0));
    expect(decodeFieldViolations(zero.metadata).map((v) => v.field)).toEqual(['quantity']);
    const noReason = await refusal(adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_UNSPECIFIED, 1));
    expect(decodeFieldViolations(noReason.metadata).map((v) => v.field)).toEqual(['reason']);
    expect(
      (
        await refusal(
          h.client.adjustStock({
            requestId: randomUUID(),
            skuCode: 'unknown-sku',
            locationId: STORE,
            reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
            quantity: '1',
            note: '',
          }),
        )
      ).code,
    ).toBe(status.NOT_FOUND);
    expect(
      (
        await refusal(
          h.client.adjustStock({
            requestId: randomUUID(),
            skuCode: sku,
            locationId: 'nowhere',
            reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
            quantity: '1',
            note: '',
          }),
        )
      ).code,
    ).toBe(status.NOT_FOUND);
    expect((await h.client.getStock({ skuCode: sku, locationId: STORE })).stock?.onHand).toBe('0');
  });

  it('safety stock lowers available; StockLow is announced once when available falls below the threshold', async () => {
    const sku = skuCode('low');
    await h.announceSkus([sku]);
    await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_RECEIPT, 10);
    const policy = await h.client.setStockPolicy({
      requestId: randomUUID(),
      skuCode: sku,
      locationId: STORE,
      safetyStock: '2',
      lowStockThreshold: '5',
    });
    expect(policy.stock).toMatchObject({ onHand: '10', safetyStock: '2', available: '8', lowStockThreshold: '5' });
    // Holds take available from 8 to 4: below 5, announced once; a further hold does not announce again.
    for (const quantity of ['4', '1']) {
      await h.client.reserve({
        holdId: randomUUID(),
        ownerId: 'o',
        lines: [{ skuCode: sku, locationId: STORE, quantity }],
        expireTime: undefined,
      });
    }
    const key = `${sku}@${STORE}`;
    const low = await waitFor(() =>
      topic.messages.find((m) => m.key === key && m.headers.ce_type === 'o2o.inventory.v1.StockLow'),
    );
    expect(StockLow.decode(low.value).stock).toMatchObject({ available: '4', held: '4' });
    await adjust(sku, AdjustmentReason.ADJUSTMENT_REASON_DAMAGE, 1);
    await waitFor(() => topic.messages.filter((m) => m.key === key).length >= 4 || undefined);
    expect(
      topic.messages.filter((m) => m.key === key && m.headers.ce_type === 'o2o.inventory.v1.StockLow'),
    ).toHaveLength(1);
    expect((await h.client.getStock({ skuCode: sku, locationId: STORE })).stock).toMatchObject({
      onHand: '9',
      held: '5',
      available: '2',
    });
  });
});

describe('locations', () => {
  it('creates idempotently, refuses a reused id with other content, updates with a version check, lists by filter', async () => {
    const id = `wh-${randomUUID().slice(0, 6)}`;
    const input = locationInput({
      name: 'Kunshan warehouse',
      kind: LocationKind.LOCATION_KIND_WAREHOUSE,
      capabilities: { shipsParcels: true, storePickup: false, sameDayRadiusM: 0, acceptsReturns: true },
    });
    const first = await h.client.createLocation({ locationId: id, location: input });
    expect(first.location).toMatchObject({ id, version: '1', status: LocationStatus.LOCATION_STATUS_OPEN });
    expect((await h.client.createLocation({ locationId: id, location: input })).location?.version).toBe('1');
    expect(
      (await refusal(h.client.createLocation({ locationId: id, location: { ...input, name: 'Other' } }))).code,
    ).toBe(status.ALREADY_EXISTS);

    const paused = await h.client.updateLocation({
      locationId: id,
      location: { ...input, status: LocationStatus.LOCATION_STATUS_PAUSED },
      expectedVersion: '1',
    });
    expect(paused.location).toMatchObject({ version: '2', status: LocationStatus.LOCATION_STATUS_PAUSED });
    expect(
      (await refusal(h.client.updateLocation({ locationId: id, location: input, expectedVersion: '1' }))).code,
    ).toBe(status.ABORTED);

    const warehouses = await h.client.listLocations({
      page: undefined,
      kinds: [LocationKind.LOCATION_KIND_WAREHOUSE],
      statuses: [],
    });
    expect(warehouses.locations.map((l) => l.id)).toEqual([id]);
    const page1 = await h.client.listLocations({ page: { pageSize: 1, pageToken: '' }, kinds: [], statuses: [] });
    expect(page1.locations).toHaveLength(1);
    const page2 = await h.client.listLocations({
      page: { pageSize: 1, pageToken: page1.page?.nextPageToken ?? '' },
      kinds: [],
      statuses: [],
    });
    expect(page2.locations[0]?.id).not.toBe(page1.locations[0]?.id);
  });

  it('refuses bad locations naming every field at fault, and stores nothing', async () => {
    const id = `bad-${randomUUID().slice(0, 6)}`;
    const error = await refusal(
      h.client.createLocation({
        locationId: id,
        location: locationInput({
          name: '',
          kind: LocationKind.LOCATION_KIND_UNSPECIFIED,
          point: { latitude: 91, longitude: 0 },
          timeZone: 'Mars/Olympus',
          openingHours: [{ weekday: 8, opens: '25:00', closes: '10:00' }],
        }),
      }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(
      decodeFieldViolations(error.metadata)
        .map((v) => v.field)
        .sort(),
    ).toEqual(
      [
        'location.kind',
        'location.name',
        'location.opening_hours[0].opens',
        'location.opening_hours[0].weekday',
        'location.point',
        'location.time_zone',
      ].sort(),
    );
    expect((await refusal(h.client.getLocation({ locationId: id }))).code).toBe(status.NOT_FOUND);
  });
});
