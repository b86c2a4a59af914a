import { status } from '@grpc/grpc-js';
import { PriceChannel, ProductStatus, SalesChannel } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { PriceChanged, ProductCreated, ProductDiscontinued } from '@o2o/contracts/gen/o2o/catalogue/v1/events';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { collectTopic, type Harness, productInput, refusal, startHarness, statusOf } from './harness';

let h: Harness;
let topic: Awaited<ReturnType<typeof collectTopic>>;
let c: Harness['client'];

beforeAll(async () => {
  h = await startHarness();
  c = h.client;
  topic = await collectTopic(h.service.topic);
});

afterAll(async () => {
  await topic?.stop();
  await h?.close();
});

const sku = () => uniqueName('SKU').toUpperCase().replace(/_/g, '-');

describe('catalogue over gRPC, events on Kafka', () => {
  it('creates a product and publishes ProductCreated as a CloudEvent a plain consumer can decode', async () => {
    const code = sku();
    const { product } = await c.createProduct({ requestId: uniqueName('req'), product: productInput(code) });
    expect(product).toMatchObject({ status: ProductStatus.PRODUCT_STATUS_DRAFT, version: '1' });
    expect(product!.id).toMatch(/^prd_/);

    const message = await waitFor(() => topic.messages.find((m) => m.key === product!.id), { what: 'ProductCreated' });
    expect(message.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_type: 'o2o.catalogue.v1.ProductCreated',
      ce_source: '/o2o/catalogue',
      ce_subject: product!.id,
      'content-type': 'application/protobuf',
    });
    expect(message.headers.ce_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(message.headers.ce_time!).toISOString()).toBe(message.headers.ce_time);
    const event = ProductCreated.decode(message.value);
    expect(event.product?.skus[0]?.code).toBe(code);
    expect(event.product?.skus[0]?.prices).toEqual([
      { channel: PriceChannel.PRICE_CHANNEL_ONLINE, price: { currencyCode: 'CNY', amountMinor: '3900' } },
      { channel: PriceChannel.PRICE_CHANNEL_STORE, price: { currencyCode: 'CNY', amountMinor: '4200' } },
    ]);
    await waitFor(async () => (await h.pendingOutbox()) === 0, { what: 'outbox drained' });
  });

  it('is idempotent by request id: a repeat returns the same product and publishes nothing more', async () => {
    const requestId = uniqueName('req');
    const input = productInput(sku());
    const first = await c.createProduct({ requestId, product: input });
    const [second, third] = await Promise.all([
      c.createProduct({ requestId, product: input }),
      c.createProduct({ requestId, product: input }),
    ]);
    expect(second.product?.id).toBe(first.product?.id);
    expect(third.product?.id).toBe(first.product?.id);
    await waitFor(async () => (await h.pendingOutbox()) === 0, { what: 'outbox drained' });
    await new Promise((r) => setTimeout(r, 500));
    expect(topic.messages.filter((m) => m.key === first.product!.id)).toHaveLength(1);

    const changed = await refusal(c.createProduct({ requestId, product: { ...input, name: 'Other' } }));
    expect(changed).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(decodeFieldViolations(changed.metadata).map((v) => v.field)).toEqual(['request_id']);
  });

  it('runs the lifecycle with optimistic concurrency and publishes each change', async () => {
    const { product } = await c.createProduct({ requestId: uniqueName('req'), product: productInput(sku()) });
    const id = product!.id;
    const code = product!.skus[0]!.code;
    const priced = await c.setPrice({
      requestId: uniqueName('req'),
      productId: id,
      expectedVersion: '1',
      skuCode: code,
      channel: PriceChannel.PRICE_CHANNEL_ONLINE,
      price: { currencyCode: 'CNY', amountMinor: '3500' },
    });
    expect(priced.product?.version).toBe('2');

    const stale = await refusal(
      c.activateProduct({ requestId: uniqueName('req'), productId: id, expectedVersion: '1' }),
    );
    expect(stale).toMatchObject({ code: status.ABORTED });

    const active = await c.activateProduct({ requestId: uniqueName('req'), productId: id, expectedVersion: '2' });
    expect(active.product?.status).toBe(ProductStatus.PRODUCT_STATUS_ACTIVE);
    const gone = await c.discontinueProduct({
      requestId: uniqueName('req'),
      productId: id,
      expectedVersion: '3',
      reason: 'range review',
    });
    expect(gone.product?.status).toBe(ProductStatus.PRODUCT_STATUS_DISCONTINUED);

    const again = await refusal(
      c.activateProduct({ requestId: uniqueName('req'), productId: id, expectedVersion: '4' }),
    );
    expect(again).toMatchObject({ code: status.FAILED_PRECONDITION });

    const types = await waitFor(
      () => {
        const t = topic.messages.filter((m) => m.key === id).map((m) => m.headers.ce_type);
        return t.length >= 4 ? t : undefined;
      },
      { what: 'four events' },
    );
    expect(types).toEqual([
      'o2o.catalogue.v1.ProductCreated',
      'o2o.catalogue.v1.PriceChanged',
      'o2o.catalogue.v1.ProductUpdated',
      'o2o.catalogue.v1.ProductDiscontinued',
    ]);
    const messages = topic.messages.filter((m) => m.key === id);
    expect(PriceChanged.decode(messages[1]!.value)).toMatchObject({
      previousPrice: { amountMinor: '3900' },
      price: { amountMinor: '3500' },
    });
    expect(ProductDiscontinued.decode(messages[3]!.value)).toMatchObject({ skuCodes: [code], reason: 'range review' });
  });

  it('updates masked fields and answers Get, BatchGetSkus, List (paged) and Search', async () => {
    const brand = uniqueName('brand');
    const codes = [sku(), sku(), sku()];
    const ids: string[] = [];
    for (const code of codes) {
      const { product } = await c.createProduct({
        requestId: uniqueName('req'),
        product: { ...productInput(code), brand },
      });
      ids.push(product!.id);
    }
    const updated = await c.updateProduct({
      requestId: uniqueName('req'),
      productId: ids[0]!,
      expectedVersion: '1',
      product: { ...productInput(codes[0]!), name: 'Silver Needle white tea', description: 'ignored' },
      updateMask: ['name'],
    });
    expect(updated.product).toMatchObject({ name: 'Silver Needle white tea', description: 'Loose leaf', version: '2' });

    expect((await c.getProduct({ productId: ids[1]! })).product?.skus[0]?.code).toBe(codes[1]);
    const skus = await c.batchGetSkus({ skuCodes: [codes[2]!, 'NOPE-404'] });
    expect(skus.skus.map((s) => s.productId)).toEqual([ids[2]]);
    expect(skus.missingSkuCodes).toEqual(['NOPE-404']);

    const page1 = await c.listProducts({
      brand,
      page: { pageSize: 2, pageToken: '' },
      status: 0,
      category: '',
      sellableChannel: 0,
    });
    expect(page1.products.map((p) => p.id)).toEqual(ids.slice(0, 2));
    const page2 = await refusal(
      c.listProducts({
        brand,
        page: { pageSize: 2, pageToken: page1.page!.nextPageToken },
        status: 0,
        category: 'food',
        sellableChannel: SalesChannel.SALES_CHANNEL_UNSPECIFIED,
      }),
    );
    expect(page2).toMatchObject({ code: status.INVALID_ARGUMENT }); // token from other filters
    const page2ok = await c.listProducts({
      brand,
      page: { pageSize: 2, pageToken: page1.page!.nextPageToken },
      status: 0,
      category: '',
      sellableChannel: 0,
    });
    expect(page2ok.products.map((p) => p.id)).toEqual([ids[2]]);
    expect(page2ok.page?.nextPageToken).toBe('');

    const byName = await c.searchProducts({ query: 'silver NEEDLE', page: undefined });
    expect(byName.products.map((p) => p.id)).toContain(ids[0]);
    const bySku = await c.searchProducts({ query: codes[1]!, page: undefined });
    expect(bySku.products.map((p) => p.id)).toEqual([ids[1]]);
  });
});

describe('bad input: the right status, the field named, nothing written, no event', () => {
  async function expectRefused(
    request: Parameters<Harness['client']['createProduct']>[0],
    code: status,
    field: string,
  ) {
    const productsBefore = await h.countProducts();
    const eventsBefore = topic.messages.length;
    const error = await c.createProduct(request).then(
      () => undefined,
      (e: unknown) => statusOf(e),
    );
    expect(error?.code).toBe(code);
    expect(decodeFieldViolations(error?.metadata).map((v) => v.field)).toContain(field);
    expect(await h.countProducts()).toBe(productsBefore);
    await new Promise((r) => setTimeout(r, 300));
    expect(topic.messages.length).toBe(eventsBefore);
  }
  const withPrice = (amountMinor: string, currencyCode = 'CNY') => {
    const input = productInput(sku());
    input.skus[0]!.prices = [{ channel: PriceChannel.PRICE_CHANNEL_ONLINE, price: { currencyCode, amountMinor } }];
    return input;
  };

  it('empty name', () =>
    expectRefused(
      { requestId: uniqueName('r'), product: productInput(sku(), { name: '' }) },
      status.INVALID_ARGUMENT,
      'product.name',
    ));
  it('negative price', () =>
    expectRefused(
      { requestId: uniqueName('r'), product: withPrice('-100') },
      status.INVALID_ARGUMENT,
      'product.skus[0].prices[0].price.amount_minor',
    ));
  it('unknown currency', () =>
    expectRefused(
      { requestId: uniqueName('r'), product: withPrice('100', 'ABC') },
      status.INVALID_ARGUMENT,
      'product.skus[0].prices[0].price.currency_code',
    ));
  it('unspecified price channel', () => {
    const input = productInput(sku());
    input.skus[0]!.prices[0]!.channel = PriceChannel.PRICE_CHANNEL_UNSPECIFIED;
    return expectRefused(
      { requestId: uniqueName('r'), product: input },
      status.INVALID_ARGUMENT,
      'product.skus[0].prices[0].channel',
    );
  });
  it('a 10 MB name is refused by the message size limit before any work', async () => {
    const before = await h.countProducts();
    const error = await refusal(
      c.createProduct({
        requestId: uniqueName('r'),
        product: productInput(sku(), { name: 'x'.repeat(10 * 1024 * 1024) }),
      }),
    );
    expect(error).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(await h.countProducts()).toBe(before);
  });
  it('a 1,000-character name (under the message limit) is refused by the field limit', () =>
    expectRefused(
      { requestId: uniqueName('r'), product: productInput(sku(), { name: 'x'.repeat(1000) }) },
      status.INVALID_ARGUMENT,
      'product.name',
    ));
  it('a SKU code owned by another product', async () => {
    const code = sku();
    await c.createProduct({ requestId: uniqueName('r'), product: productInput(code) });
    await waitFor(async () => (await h.pendingOutbox()) === 0, { what: 'outbox drained' });
    await expectRefused(
      { requestId: uniqueName('r'), product: productInput(code) },
      status.ALREADY_EXISTS,
      'product.skus[0].code',
    );
  });
  it('a missing request id', () =>
    expectRefused({ requestId: '', product: productInput(sku()) }, status.INVALID_ARGUMENT, 'request_id'));

  it('an unknown product id → NOT_FOUND', async () => {
    const error = await refusal(c.getProduct({ productId: 'prd_doesnotexist' }));
    expect(error).toMatchObject({ code: status.NOT_FOUND });
    const update = await refusal(
      c.setPrice({
        requestId: uniqueName('r'),
        productId: 'prd_nope',
        expectedVersion: '1',
        skuCode: 'X',
        channel: PriceChannel.PRICE_CHANNEL_ONLINE,
        price: { currencyCode: 'CNY', amountMinor: '1' },
      }),
    );
    expect(update).toMatchObject({ code: status.NOT_FOUND });
  });

  it('a stale version → ABORTED, nothing changed, no event', async () => {
    const { product } = await c.createProduct({ requestId: uniqueName('r'), product: productInput(sku()) });
    await waitFor(async () => (await h.pendingOutbox()) === 0, { what: 'outbox drained' });
    const events = topic.messages.length;
    const error = await refusal(
      c.updateProduct({
        requestId: uniqueName('r'),
        productId: product!.id,
        expectedVersion: '7',
        product: productInput('X', { name: 'New' }),
        updateMask: ['name'],
      }),
    );
    expect(error).toMatchObject({ code: status.ABORTED });
    expect((await c.getProduct({ productId: product!.id })).product).toMatchObject({
      name: product!.name,
      version: '1',
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(topic.messages.length).toBe(events);
  });

  it('an unknown update_mask path and a bad page size → INVALID_ARGUMENT naming them', async () => {
    const { product } = await c.createProduct({ requestId: uniqueName('r'), product: productInput(sku()) });
    const mask = await refusal(
      c.updateProduct({
        requestId: uniqueName('r'),
        productId: product!.id,
        expectedVersion: '1',
        product: productInput('X'),
        updateMask: ['status'],
      }),
    );
    expect(decodeFieldViolations(mask.metadata).map((v) => v.field)).toEqual(['update_mask']);
    const page = await refusal(
      c.listProducts({
        page: { pageSize: 1000, pageToken: '' },
        status: 0,
        category: '',
        sellableChannel: 0,
        brand: '',
      }),
    );
    expect(decodeFieldViolations(page.metadata).map((v) => v.field)).toEqual(['page.page_size']);
  });
});
