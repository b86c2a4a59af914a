// What the scenarios need before they measure: a warehouse and three stores in central Shanghai, products whose SKUs
// have ONLINE and STORE prices and sell on every channel, stock, and API keys issued through the gateway's admin API.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { PriceChannel, SalesChannel } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { AdjustmentReason, LocationKind } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { sampleLocation } from '@o2o/kit-bench';
import type { System } from './system';

export const WAREHOUSE = 'bench-sys-wh';
export const STORES = ['bench-sys-store-a', 'bench-sys-store-b', 'bench-sys-store-c'];
const POINTS = {
  [WAREHOUSE]: { latitude: 31.21, longitude: 121.49 },
  'bench-sys-store-a': { latitude: 31.2336, longitude: 121.4752 },
  'bench-sys-store-b': { latitude: 31.2197, longitude: 121.475 },
  'bench-sys-store-c': { latitude: 31.2401, longitude: 121.4602 },
} as Record<string, { latitude: number; longitude: number }>;

/** Where a location is (for couriers starting near it). */
export function pointOf(locationId: string): { latitude: number; longitude: number } {
  const p = POINTS[locationId];
  if (!p) throw new Error(`no bench location "${locationId}"`);
  return p;
}

const CALL = { deadlineMs: 30_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The warehouse and the three stores. */
export async function seedLocations(sys: System): Promise<void> {
  await sys.inventory.createLocation(
    {
      locationId: WAREHOUSE,
      location: sampleLocation('Bench warehouse', LocationKind.LOCATION_KIND_WAREHOUSE, pointOf(WAREHOUSE)),
    },
    CALL,
  );
  for (const [k, id] of STORES.entries()) {
    await sys.inventory.createLocation(
      { locationId: id, location: sampleLocation(`Bench store ${k}`, LocationKind.LOCATION_KIND_STORE, pointOf(id)) },
      CALL,
    );
  }
}

/** Creates and activates products holding these SKUs (5 a product), then waits until inventory knows every one. */
export async function seedSkus(sys: System, codes: string[], name: string): Promise<void> {
  const perProduct = 5;
  for (let at = 0; at < codes.length; at += perProduct) {
    const { product } = await sys.catalogue.createProduct(
      {
        requestId: randomUUID(),
        product: {
          name: `${name} ${at / perProduct}`,
          description: 'for the system benchmark',
          brand: 'Bench',
          categories: ['food/tea'],
          attributes: {},
          imageUrls: [],
          skus: codes.slice(at, at + perProduct).map((code, k) => ({
            code,
            name: code,
            attributes: {},
            prices: [
              {
                channel: PriceChannel.PRICE_CHANNEL_ONLINE,
                price: { currencyCode: 'CNY', amountMinor: String(1000 + 37 * (at + k)) },
              },
              {
                channel: PriceChannel.PRICE_CHANNEL_STORE,
                price: { currencyCode: 'CNY', amountMinor: String(950 + 37 * (at + k)) },
              },
            ],
            sellableChannels: [
              SalesChannel.SALES_CHANNEL_ONLINE,
              SalesChannel.SALES_CHANNEL_IN_STORE,
              SalesChannel.SALES_CHANNEL_STORE_KIOSK,
            ],
            barcode: '',
            imageUrls: [],
          })),
        },
      },
      CALL,
    );
    if (!product) throw new Error('CreateProduct answered no product');
    await sys.catalogue.activateProduct(
      { requestId: randomUUID(), productId: product.id, expectedVersion: product.version },
      CALL,
    );
  }
  // Inventory learns SKUs from the catalogue's events (outbox → Kafka → consumer).
  for (const skuCode of codes) {
    for (let waited = 0; ; waited++) {
      try {
        await sys.inventory.getStock({ skuCode, locationId: WAREHOUSE }, CALL);
        break;
      } catch (error) {
        if ((error as { code?: number }).code !== Number(status.NOT_FOUND) || waited > 1200) throw error;
        await sleep(100);
      }
    }
  }
}

/** A receipt of `quantity` units of a SKU at a location. */
export async function receive(sys: System, skuCode: string, locationId: string, quantity: number): Promise<void> {
  await sys.inventory.adjustStock(
    {
      requestId: `recv-${skuCode}-${locationId}`,
      skuCode,
      locationId,
      reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
      quantity: String(quantity),
      note: 'bench receipt',
    },
    CALL,
  );
}

/** An API key issued by the gateway's admin API (BOOTSTRAP_ADMIN_KEY), with a rate limit no bench reaches. */
export async function issueKey(
  sys: System,
  principal: { role: 'shopper' | 'staff' | 'partner' | 'admin'; subject: string; storeIds?: string[] },
): Promise<string> {
  const { key } = await sys.http.json<{ key: string }>(
    'POST',
    '/v1/admin/api-keys',
    { 'x-api-key': sys.adminKey },
    { ...principal, rateLimitPerMinute: 1_000_000, description: 'system benchmark' },
    201,
  );
  return key;
}
