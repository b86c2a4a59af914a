// The orders service's clients of its dependencies against the REAL catalogue, inventory and payments services,
// started in this process on port 0 with the real Kafka and database: every port method, the refusals the order
// must tell apart from "no answer yet", and a stopped dependency (or one that never answers) → retry.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { credentials, status } from '@grpc/grpc-js';
import { loadConfig as loadCatalogueConfig } from '@o2o/catalogue/config';
import { start as startCatalogue, type CatalogueService } from '@o2o/catalogue/main';
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  PriceChannel,
  type Sku,
  SalesChannel,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import {
  AdjustmentReason,
  InventoryServiceClient,
  InventoryServiceService,
  type LocationInput,
  LocationKind,
  LocationStatus,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import {
  PaymentsServiceClient,
  PaymentsServiceService,
  PaymentStatus,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { loadConfig as loadInventoryConfig } from '@o2o/inventory/config';
import { start as startInventory, type InventoryService } from '@o2o/inventory/main';
import { TEST_CARDS } from '@o2o/payments/adapters/card-simulator';
import { loadConfig as loadPaymentsConfig } from '@o2o/payments/config';
import { start as startPayments, type PaymentsService } from '@o2o/payments/main';
import { asyncClient } from '@o2o/kit-grpc';
import { createLogger } from '@o2o/kit-log';
import { statusOf, testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import { catalogueClient } from '../src/adapters/catalogue-client';
import { inventoryClient } from '../src/adapters/inventory-client';
import { paymentsClient } from '../src/adapters/payments-client';
import type { AuthorizeRequest } from '../src/app/ports';

const STORE = 'sh-nanjing-rd';
const WAREHOUSE = 'sh-east-wh';
const CLOSED = 'sh-closed';
const NEAR_STORE = { latitude: 31.2304, longitude: 121.4737 };
const tag = randomUUID().slice(0, 8);
const TEA = `TEA-${tag}`;
const CUP = `CUP-${tag}`;
const TILL_ONLY = `BAG-${tag}`;
const DRAFT = `DRAFT-${tag}`;
const cny = (amountMinor: number) => ({ currency: 'CNY', amountMinor });
const quiet = (service: string) => createLogger({ service, level: 'warn' });

let catalogue: CatalogueService;
let inventory: InventoryService;
let payments: PaymentsService;
let admin: {
  catalogue: CatalogueServiceClient;
  inventory: InventoryServiceClient;
  payments: PaymentsServiceClient;
};
let ports: {
  catalogue: ReturnType<typeof catalogueClient>;
  inventory: ReturnType<typeof inventoryClient>;
  payments: ReturnType<typeof paymentsClient>;
};

beforeAll(async () => {
  const infra = testInfra();
  // Catalogue and inventory share a topic prefix: inventory learns SKUs from the catalogue's events.
  const prefix = `${uniqueName('t')}.`;
  const common = {
    GRPC_PORT: '0',
    MONGO_URL: infra.mongoUrl,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    OUTBOX_POLL_INTERVAL_MS: '100',
    LOG_LEVEL: 'warn',
  };
  [catalogue, inventory, payments] = await Promise.all([
    startCatalogue(loadCatalogueConfig({ ...common, MONGO_DB: uniqueName('cat') }), { logger: quiet('catalogue') }),
    startInventory(
      loadInventoryConfig({
        ...common,
        MONGO_DB: uniqueName('inv'),
        KAFKA_GROUP_ID: uniqueName('inv'),
        HOLD_SWEEP_INTERVAL_MS: '60000',
      }),
      { logger: quiet('inventory') },
    ),
    startPayments(
      loadPaymentsConfig({
        ...common,
        MONGO_DB: uniqueName('pay'),
        WALLET_CALLBACK_PORT: '0',
        WALLET_CALLBACK_SECRET: 'test-wallet-secret-0123456789',
        WALLET_RECONCILE_INTERVAL_MS: '0',
        WALLET_EXPIRY_INTERVAL_MS: '0',
      }),
      { logger: quiet('payments') },
    ),
  ]);
  const at = (port: number) => `127.0.0.1:${port}`;
  admin = {
    catalogue: new CatalogueServiceClient(at(catalogue.port), credentials.createInsecure()),
    inventory: new InventoryServiceClient(at(inventory.port), credentials.createInsecure()),
    payments: new PaymentsServiceClient(at(payments.port), credentials.createInsecure()),
  };
  ports = {
    catalogue: catalogueClient({ address: at(catalogue.port) }),
    inventory: inventoryClient({ address: at(inventory.port) }),
    payments: paymentsClient({ address: at(payments.port) }),
  };
  await seedCatalogue();
  await seedInventory();
});

afterAll(async () => {
  for (const port of Object.values(ports ?? {})) port.close();
  for (const client of Object.values(admin ?? {})) client.close();
  // stop() is idempotent, so the services the outage test already stopped are fine here.
  await Promise.all([catalogue?.stop(), inventory?.stop(), payments?.stop()]);
});

/** Tea (online and store prices), a cup (online only), a bag sold at tills only, and a product left in DRAFT. */
async function seedCatalogue(): Promise<void> {
  const client = asyncClient(admin.catalogue, CatalogueServiceService);
  const sku = (code: string, prices: [PriceChannel, number][], channels: SalesChannel[]): Sku => ({
    code,
    name: code,
    attributes: {},
    prices: prices.map(([channel, minor]) => ({ channel, price: { currencyCode: 'CNY', amountMinor: String(minor) } })),
    sellableChannels: channels,
    barcode: '',
    imageUrls: [],
  });
  const create = async (name: string, skus: Sku[]) =>
    (
      await client.createProduct({
        requestId: randomUUID(),
        product: { name, description: '', brand: 'o2o', categories: ['food/tea'], attributes: {}, imageUrls: [], skus },
      })
    ).product!;
  const tea = await create('Longjing tea', [
    sku(
      TEA,
      [
        [PriceChannel.PRICE_CHANNEL_ONLINE, 1250],
        [PriceChannel.PRICE_CHANNEL_STORE, 1100],
      ],
      [SalesChannel.SALES_CHANNEL_ONLINE, SalesChannel.SALES_CHANNEL_IN_STORE, SalesChannel.SALES_CHANNEL_STORE_KIOSK],
    ),
    sku(CUP, [[PriceChannel.PRICE_CHANNEL_ONLINE, 3900]], [SalesChannel.SALES_CHANNEL_ONLINE]),
    sku(TILL_ONLY, [[PriceChannel.PRICE_CHANNEL_STORE, 200]], [SalesChannel.SALES_CHANNEL_IN_STORE]),
  ]);
  await client.activateProduct({ requestId: randomUUID(), productId: tea.id, expectedVersion: tea.version });
  await create('Tea of next season', [
    sku(DRAFT, [[PriceChannel.PRICE_CHANNEL_ONLINE, 990]], [SalesChannel.SALES_CHANNEL_ONLINE]),
  ]);
}

/** A store with 10 tea and 5 cups, a warehouse with 3 tea, a closed store with 4 tea. */
async function seedInventory(): Promise<void> {
  const client = asyncClient(admin.inventory, InventoryServiceService);
  const location = (overrides: Partial<LocationInput>): LocationInput => ({
    name: 'Nanjing Road store',
    kind: LocationKind.LOCATION_KIND_STORE,
    point: { latitude: 31.2336, longitude: 121.4752 },
    address: undefined,
    timeZone: 'Asia/Shanghai',
    openingHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, opens: '10:00', closes: '22:00' })),
    capabilities: { shipsParcels: true, storePickup: true, sameDayRadiusM: 5000, acceptsReturns: true },
    status: LocationStatus.LOCATION_STATUS_OPEN,
    ...overrides,
  });
  await client.createLocation({ locationId: STORE, location: location({}) });
  await client.createLocation({
    locationId: WAREHOUSE,
    location: location({
      name: 'East warehouse',
      kind: LocationKind.LOCATION_KIND_WAREHOUSE,
      point: { latitude: 31.3, longitude: 121.6 },
      capabilities: { shipsParcels: true, storePickup: false, sameDayRadiusM: 0, acceptsReturns: false },
    }),
  });
  await client.createLocation({
    locationId: CLOSED,
    location: location({ name: 'Old store', status: LocationStatus.LOCATION_STATUS_CLOSED }),
  });
  const receive = (skuCode: string, locationId: string, quantity: number) =>
    client.adjustStock({
      requestId: `seed-${skuCode}-${locationId}`,
      skuCode,
      locationId,
      reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
      quantity: String(quantity),
      note: '',
    });
  // Inventory knows a SKU once it has read the catalogue's ProductCreated from Kafka: NOT_FOUND until then.
  await waitFor(
    async () => {
      try {
        return await receive(TEA, STORE, 10);
      } catch (error) {
        if (statusOf(error).code === Number(status.NOT_FOUND)) return undefined;
        throw error;
      }
    },
    { what: 'inventory to learn the SKUs from the catalogue', timeoutMs: 30_000 },
  );
  await waitFor(async () => (await receive(CUP, STORE, 5).catch(() => undefined)) ?? false, { timeoutMs: 30_000 });
  await receive(TEA, WAREHOUSE, 3);
  await receive(TEA, CLOSED, 4);
}

async function stockOf(skuCode: string, locationId: string) {
  const { stock } = await asyncClient(admin.inventory, InventoryServiceService).getStock({ skuCode, locationId });
  return { onHand: Number(stock!.onHand), held: Number(stock!.held), available: Number(stock!.available) };
}

async function paymentsOfOrder(orderId: string) {
  const client = asyncClient(admin.payments, PaymentsServiceService);
  return (await client.listPayments({ orderId, page: undefined })).payments;
}

function cardAuthorization(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  const orderId = uniqueName('ord');
  return {
    key: `${orderId}:auth:1`,
    orderId,
    amount: cny(10_000),
    method: 'CARD',
    cardNumber: TEST_CARDS.approve,
    attribution: { customerId: 'cust-1', storeId: '', partnerId: '', locationIds: ['wh-1'] },
    ...overrides,
  };
}

describe('catalogue port', () => {
  it('prices SKUs from the price list of the channel, in the currency asked for', async () => {
    const online = await ports.catalogue.priceSkus({
      skuCodes: [TEA, CUP],
      priceList: 'ONLINE',
      salesChannel: 'ONLINE',
      currency: 'CNY',
    });
    expect(online).toEqual({
      kind: 'priced',
      skus: [
        { skuCode: TEA, unitPrice: cny(1250), productId: expect.any(String), productName: 'Longjing tea' },
        { skuCode: CUP, unitPrice: cny(3900), productId: expect.any(String), productName: 'Longjing tea' },
      ],
    });
    const till = await ports.catalogue.priceSkus({
      skuCodes: [TEA, TILL_ONLY],
      priceList: 'STORE',
      salesChannel: 'IN_STORE',
      currency: 'CNY',
    });
    expect(till).toMatchObject({ kind: 'priced', skus: [{ unitPrice: cny(1100) }, { unitPrice: cny(200) }] });
  });

  it('refuses naming the SKU: unknown, not on sale, not sellable on the channel, no price in the currency', async () => {
    const query = { priceList: 'ONLINE', salesChannel: 'ONLINE', currency: 'CNY' } as const;
    expect(await ports.catalogue.priceSkus({ ...query, skuCodes: [TEA, 'NO-SUCH-SKU'] })).toEqual({
      kind: 'refused',
      reason: 'SKU "NO-SUCH-SKU" is not in the catalogue',
    });
    expect(await ports.catalogue.priceSkus({ ...query, skuCodes: [DRAFT] })).toEqual({
      kind: 'refused',
      reason: `SKU "${DRAFT}" is not on sale (its product is draft)`,
    });
    expect(await ports.catalogue.priceSkus({ ...query, skuCodes: [TILL_ONLY] })).toEqual({
      kind: 'refused',
      reason: `SKU "${TILL_ONLY}" is not sellable on the ONLINE channel`,
    });
    expect(await ports.catalogue.priceSkus({ ...query, skuCodes: [TEA], currency: 'USD' })).toEqual({
      kind: 'refused',
      reason: `SKU "${TEA}" has no ONLINE price in USD`,
    });
    expect(
      await ports.catalogue.priceSkus({ skuCodes: [CUP], priceList: 'STORE', salesChannel: 'ONLINE', currency: 'CNY' }),
    ).toEqual({ kind: 'refused', reason: `SKU "${CUP}" has no STORE price in CNY` });
  });

  it('asks in batches of at most 500 codes (the catalogue refuses more in one call)', async () => {
    const unknown = Array.from({ length: 700 }, (_, i) => `GONE-${i}`);
    const answer = await ports.catalogue.priceSkus({
      skuCodes: [TEA, ...unknown],
      priceList: 'ONLINE',
      salesChannel: 'ONLINE',
      currency: 'CNY',
    });
    expect(answer.kind).toBe('refused');
    expect(answer.kind === 'refused' && answer.reason).toContain('SKU "GONE-699" is not in the catalogue');
  });
});

describe('inventory port', () => {
  it('plans the nearest location that has everything, and refuses naming what nobody can supply', async () => {
    const items = [
      { skuCode: TEA, quantity: 2 },
      { skuCode: CUP, quantity: 1 },
    ];
    expect(await ports.inventory.plan({ items, type: 'HOME_DELIVERY', deliveryPoint: NEAR_STORE })).toEqual({
      kind: 'planned',
      allocations: [{ locationId: STORE, items, distanceM: expect.any(Number), sameDay: true }],
    });
    expect(await ports.inventory.plan({ items, type: 'STORE_PICKUP', storeLocationId: STORE })).toMatchObject({
      kind: 'planned',
      allocations: [{ locationId: STORE, distanceM: 0 }],
    });
    const tooMany = await ports.inventory.plan({
      items: [{ skuCode: CUP, quantity: 50 }],
      type: 'STORE_PICKUP',
      storeLocationId: STORE,
    });
    // The store has 5 cups: what nobody can supply is the other 45.
    expect(tooMany).toEqual({ kind: 'refused', reason: `No plan covers every item; unallocated: 45 × SKU "${CUP}"` });
    const nowhere = await ports.inventory.plan({ items, type: 'STORE_PICKUP', storeLocationId: 'no-such-store' });
    expect(nowhere).toEqual({ kind: 'refused', reason: 'Location "no-such-store" does not exist' });
  });

  it('holds, extends, commits; repeats are done, and a committed hold released is done too', async () => {
    const before = await stockOf(TEA, WAREHOUSE);
    const request = {
      holdId: uniqueName('hold'),
      ownerId: 'order-1',
      lines: [{ skuCode: TEA, locationId: WAREHOUSE, quantity: 2 }],
      expiresAt: new Date(Date.now() + 10 * 60_000),
    };
    expect(await ports.inventory.reserve(request)).toEqual({ kind: 'held' });
    expect(await ports.inventory.reserve(request)).toEqual({ kind: 'held' });
    expect(await stockOf(TEA, WAREHOUSE)).toMatchObject({ held: before.held + 2, available: before.available - 2 });
    expect(await ports.inventory.extend(request.holdId, new Date(Date.now() + 60 * 60_000))).toEqual({ kind: 'done' });
    expect(await ports.inventory.commit(request.holdId)).toEqual({ kind: 'done' });
    expect(await ports.inventory.commit(request.holdId)).toEqual({ kind: 'done' });
    expect(await ports.inventory.release(request.holdId, 'order cancelled')).toEqual({ kind: 'done' });
    expect(await stockOf(TEA, WAREHOUSE)).toMatchObject({ onHand: before.onHand - 2, held: before.held });
    // The goods left: the hold cannot move any more.
    expect(await ports.inventory.extend(request.holdId, new Date(Date.now() + 60_000))).toEqual({
      kind: 'refused',
      reason: `Cannot extend hold "${request.holdId}": it is committed`,
    });
    expect(await ports.inventory.reserve(request)).toEqual({ kind: 'held' });
  });

  it('releases an active hold once; releasing it again, or a hold that never existed, is done', async () => {
    const before = await stockOf(TEA, STORE);
    const holdId = uniqueName('hold');
    const request = {
      holdId,
      ownerId: 'order-2',
      lines: [{ skuCode: TEA, locationId: STORE, quantity: 3 }],
      expiresAt: new Date(Date.now() + 60_000),
    };
    expect(await ports.inventory.reserve(request)).toEqual({ kind: 'held' });
    expect((await stockOf(TEA, STORE)).available).toBe(before.available - 3);
    expect(await ports.inventory.release(holdId, 'payment declined')).toEqual({ kind: 'done' });
    expect(await ports.inventory.release(holdId, 'payment declined')).toEqual({ kind: 'done' });
    expect(await ports.inventory.release(uniqueName('never-held'), 'compensation')).toEqual({ kind: 'done' });
    expect(await stockOf(TEA, STORE)).toEqual(before);
    // A released hold holds nothing and its id cannot hold again.
    expect(await ports.inventory.reserve(request)).toEqual({ kind: 'refused', reason: `Hold "${holdId}" is released` });
    expect(await ports.inventory.commit(holdId)).toEqual({
      kind: 'refused',
      reason: `Cannot commit hold "${holdId}": it is released`,
    });
  });

  it('answers short with every short line, and refusals for a closed location or an unknown SKU', async () => {
    const store = await stockOf(TEA, STORE);
    const short = await ports.inventory.reserve({
      holdId: uniqueName('hold'),
      ownerId: 'order-3',
      lines: [
        { skuCode: TEA, locationId: STORE, quantity: 60 },
        { skuCode: TEA, locationId: STORE, quantity: 40 },
        { skuCode: CUP, locationId: STORE, quantity: 1 },
      ],
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect(short).toEqual({
      kind: 'short',
      shortages: [{ skuCode: TEA, locationId: STORE, requested: 100, available: store.available }],
    });
    expect(await stockOf(TEA, STORE)).toEqual(store);
    const closed = await ports.inventory.reserve({
      holdId: uniqueName('hold'),
      ownerId: 'order-3',
      lines: [{ skuCode: TEA, locationId: CLOSED, quantity: 1 }],
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect(closed).toEqual({ kind: 'refused', reason: `Cannot hold stock at location "${CLOSED}": it is closed` });
    const unknown = await ports.inventory.reserve({
      holdId: uniqueName('hold'),
      ownerId: 'order-3',
      lines: [{ skuCode: 'NO-SUCH-SKU', locationId: STORE, quantity: 1 }],
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect(unknown).toEqual({ kind: 'refused', reason: 'SKU "NO-SUCH-SKU" is not in the catalogue' });
  });

  it('restocks a return once per request id', async () => {
    const before = await stockOf(CUP, STORE);
    const request = { requestId: uniqueName('ret'), skuCode: CUP, locationId: STORE, quantity: 2, note: 'return r1' };
    expect(await ports.inventory.restock(request)).toEqual({ kind: 'done' });
    expect(await ports.inventory.restock(request)).toEqual({ kind: 'done' });
    expect((await stockOf(CUP, STORE)).onHand).toBe(before.onHand + 2);
    expect(await ports.inventory.restock({ ...request, requestId: uniqueName('ret'), quantity: 0 })).toMatchObject({
      kind: 'refused',
    });
  });

  it('describes locations, and answers undefined for one that does not exist', async () => {
    expect(await ports.inventory.location(STORE)).toEqual({
      id: STORE,
      open: true,
      acceptsReturns: true,
      isStore: true,
    });
    expect(await ports.inventory.location(WAREHOUSE)).toEqual({
      id: WAREHOUSE,
      open: true,
      acceptsReturns: false,
      isStore: false,
    });
    expect(await ports.inventory.location(CLOSED)).toMatchObject({ open: false, isStore: true });
    expect(await ports.inventory.location('no-such-store')).toBeUndefined();
  });
});

describe('payments port', () => {
  it('authorises a card (a repeat answers the same payment) and reports declines with their message', async () => {
    const request = cardAuthorization();
    const approved = await ports.payments.authorize(request);
    expect(approved).toEqual({ kind: 'authorized', paymentId: expect.stringMatching(/^pay_/), amount: cny(10_000) });
    expect(await ports.payments.authorize(request)).toEqual(approved);
    const declined = await ports.payments.authorize(cardAuthorization({ cardNumber: TEST_CARDS.insufficientFunds }));
    expect(declined).toEqual({ kind: 'declined', paymentId: expect.any(String), reason: 'Insufficient funds' });
    const stolen = await ports.payments.authorize(cardAuthorization({ cardNumber: TEST_CARDS.stolen }));
    expect(stolen).toMatchObject({ kind: 'declined', reason: 'The card was reported stolen' });
  });

  it('answers retry while the card provider is unavailable, and refuses a malformed request', async () => {
    const down = await ports.payments.authorize(cardAuthorization({ cardNumber: TEST_CARDS.unavailable }));
    expect(down).toMatchObject({ kind: 'retry', error: expect.stringContaining('payments: UNAVAILABLE') });
    const request = cardAuthorization({ cardNumber: TEST_CARDS.unavailableOnce });
    expect((await ports.payments.authorize(request)).kind).toBe('retry');
    expect((await ports.payments.authorize(request)).kind).toBe('authorized');
    const badCard = await ports.payments.authorize(cardAuthorization({ cardNumber: '1234' }));
    expect(badCard).toMatchObject({ kind: 'refused', reason: expect.stringContaining('card.number') });
    const noStore = await ports.payments.authorize(
      cardAuthorization({ method: 'STORE_TERMINAL', cardNumber: undefined }),
    );
    expect(noStore).toMatchObject({ kind: 'refused', reason: expect.stringContaining('store') });
  });

  it('a wallet payment awaits payment with its QR until the deadline asked for; a till sale is paid at once', async () => {
    const payBy = new Date(Date.now() + 10 * 60_000);
    const wallet = await ports.payments.authorize(
      cardAuthorization({ method: 'WALLET_QR', cardNumber: undefined, walletChannel: 'WECHAT_PAY', payBy }),
    );
    expect(wallet).toEqual({
      kind: 'awaiting-payment',
      paymentId: expect.any(String),
      qrPayload: expect.stringMatching(/.+/),
      payBy,
    });
    const cash = await ports.payments.authorize(
      cardAuthorization({ method: 'CASH', cardNumber: undefined, amount: cny(2_300), storeId: STORE }),
    );
    expect(cash).toEqual({ kind: 'paid', paymentId: expect.any(String), amount: cny(2_300) });
    const terminal = await ports.payments.authorize(
      cardAuthorization({ method: 'STORE_TERMINAL', cardNumber: undefined, storeId: STORE, terminalId: 'till-2' }),
    );
    expect(terminal).toMatchObject({ kind: 'paid', amount: cny(10_000) });
  });

  it('finds the newest payment of an order after a lost answer, or none', async () => {
    const request = cardAuthorization({ cardNumber: TEST_CARDS.doNotHonor });
    expect(await ports.payments.paymentOfOrder(request.orderId)).toEqual({ kind: 'none' });
    const declined = await ports.payments.authorize(request);
    expect(await ports.payments.paymentOfOrder(request.orderId)).toEqual(declined);
    // Another attempt for the same order, by wallet: that one is the answer now.
    const payBy = new Date(Date.now() + 5 * 60_000);
    const wallet = await ports.payments.authorize({
      ...request,
      key: `${request.orderId}:auth:2`,
      method: 'WALLET_QR',
      cardNumber: undefined,
      walletChannel: 'ALIPAY',
      payBy,
    });
    expect(wallet.kind).toBe('awaiting-payment');
    expect(await ports.payments.paymentOfOrder(request.orderId)).toEqual(wallet);
  });

  it('captures and refunds amounts once per key, and refuses more than is left', async () => {
    const request = cardAuthorization();
    const paymentId = paymentIdOf(await ports.payments.authorize(request));
    const capture = { key: uniqueName('cap'), paymentId, amount: cny(4_000) };
    expect(await ports.payments.capture(capture)).toEqual({ kind: 'captured', amount: cny(4_000) });
    expect(await ports.payments.capture(capture)).toEqual({ kind: 'captured', amount: cny(4_000) });
    expect(await ports.payments.capture({ ...capture, key: uniqueName('cap'), amount: cny(7_000) })).toMatchObject({
      kind: 'refused',
    });
    const refund = { key: uniqueName('ref'), paymentId, amount: cny(1_500), reason: 'return r1' };
    expect(await ports.payments.refund(refund)).toEqual({ kind: 'refunded', amount: cny(1_500) });
    expect(await ports.payments.refund(refund)).toEqual({ kind: 'refunded', amount: cny(1_500) });
    expect(await ports.payments.refund({ ...refund, key: uniqueName('ref'), amount: cny(3_000) })).toMatchObject({
      kind: 'refused',
    });
    const [payment] = await paymentsOfOrder(request.orderId);
    expect(payment).toMatchObject({
      capturedAmount: { amountMinor: '4000' },
      refundedAmount: { amountMinor: '1500' },
      capturableAmount: { amountMinor: '6000' },
    });
  });

  it('voids every open payment of an order (authorised card, open QR, partly captured); twice is harmless', async () => {
    const card = cardAuthorization();
    const orderId = card.orderId;
    const first = await ports.payments.authorize(card);
    const partly = await ports.payments.authorize({ ...card, key: `${orderId}:auth:2`, amount: cny(5_000) });
    const qr = await ports.payments.authorize({
      ...card,
      key: `${orderId}:auth:3`,
      method: 'WALLET_QR',
      cardNumber: undefined,
      walletChannel: 'ALIPAY',
    });
    const declined = await ports.payments.authorize({
      ...card,
      key: `${orderId}:auth:4`,
      cardNumber: TEST_CARDS.insufficientFunds,
    });
    expect([first.kind, partly.kind, qr.kind, declined.kind]).toEqual([
      'authorized',
      'authorized',
      'awaiting-payment',
      'declined',
    ]);
    const partlyId = paymentIdOf(partly);
    expect(await ports.payments.capture({ key: 'cap-1', paymentId: partlyId, amount: cny(1_000) })).toMatchObject({
      kind: 'captured',
    });

    expect(await ports.payments.voidAll(orderId, 'order cancelled')).toEqual({ kind: 'done' });
    expect(await ports.payments.voidAll(orderId, 'order cancelled again')).toEqual({ kind: 'done' });
    const after = new Map((await paymentsOfOrder(orderId)).map((p) => [p.id, p]));
    expect(after.size).toBe(4);
    for (const p of after.values()) expect(p.capturableAmount?.amountMinor).toBe('0');
    const statusOfPayment = (outcome: object) => after.get(paymentIdOf(outcome))?.status;
    expect(statusOfPayment(first)).toBe(PaymentStatus.PAYMENT_STATUS_VOIDED);
    expect(statusOfPayment(qr)).toBe(PaymentStatus.PAYMENT_STATUS_VOIDED);
    expect(statusOfPayment(partly)).toBe(PaymentStatus.PAYMENT_STATUS_CAPTURED);
    expect(after.get(partlyId)?.capturedAmount?.amountMinor).toBe('1000');
    expect(statusOfPayment(declined)).toBe(PaymentStatus.PAYMENT_STATUS_DECLINED);
    // One void per payment: the second pass found nothing open.
    const voids = [...after.values()].flatMap((p) => p.ledger.filter((e) => e.idempotencyKey.includes(':void:')));
    expect(voids.map((e) => e.idempotencyKey).sort()).toEqual(
      [`${orderId}:void:${paymentIdOf(first)}`, `${orderId}:void:${partlyId}`].sort(),
    );
    expect(await ports.payments.voidAll(uniqueName('no-payments'), 'nothing to void')).toEqual({ kind: 'done' });
  });
});

/** The payment id of an authorisation outcome ('' for retry and refused, which have none). */
function paymentIdOf(outcome: object): string {
  return (outcome as { paymentId?: string }).paymentId ?? '';
}

describe('a dependency that does not answer', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it('one that accepts connections and never answers → retry once the deadline passes', async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const slow = catalogueClient({ address: `127.0.0.1:${port}`, deadlineMs: 300 });
    const started = Date.now();
    const answer = await slow.priceSkus({
      skuCodes: [TEA],
      priceList: 'ONLINE',
      salesChannel: 'ONLINE',
      currency: 'CNY',
    });
    slow.close();
    expect(answer).toMatchObject({ kind: 'retry', error: expect.stringContaining('DEADLINE_EXCEEDED') });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('stopped services → retry from every port (location throws), never a refusal', async () => {
    await Promise.all([catalogue.stop(), inventory.stop(), payments.stop()]);
    const retry = { kind: 'retry', error: expect.stringMatching(/UNAVAILABLE/) };
    expect(
      await ports.catalogue.priceSkus({
        skuCodes: [TEA],
        priceList: 'ONLINE',
        salesChannel: 'ONLINE',
        currency: 'CNY',
      }),
    ).toEqual(retry);
    const hold = {
      holdId: uniqueName('hold'),
      ownerId: 'o',
      lines: [{ skuCode: TEA, locationId: STORE, quantity: 1 }],
      expiresAt: new Date(Date.now() + 60_000),
    };
    expect(
      await ports.inventory.plan({
        items: [{ skuCode: TEA, quantity: 1 }],
        type: 'STORE_PICKUP',
        storeLocationId: STORE,
      }),
    ).toEqual(retry);
    expect(await ports.inventory.reserve(hold)).toEqual(retry);
    expect(await ports.inventory.extend(hold.holdId, hold.expiresAt)).toEqual(retry);
    expect(await ports.inventory.commit(hold.holdId)).toEqual(retry);
    expect(await ports.inventory.release(hold.holdId, 'x')).toEqual(retry);
    expect(
      await ports.inventory.restock({ requestId: 'r', skuCode: TEA, locationId: STORE, quantity: 1, note: '' }),
    ).toEqual(retry);
    await expect(ports.inventory.location(STORE)).rejects.toThrow(/UNAVAILABLE/);
    expect(await ports.payments.authorize(cardAuthorization())).toEqual(retry);
    expect(await ports.payments.paymentOfOrder('o-1')).toEqual(retry);
    expect(await ports.payments.voidAll('o-1', 'cancelled')).toEqual(retry);
    expect(await ports.payments.capture({ key: 'k', paymentId: 'pay_1', amount: cny(1) })).toEqual(retry);
    expect(await ports.payments.refund({ key: 'k', paymentId: 'pay_1', amount: cny(1), reason: '' })).toEqual(retry);
  });
});
