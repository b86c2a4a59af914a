import { CatalogueError } from './errors';
import { Product, type ProductInput } from './product';

const now = new Date('2026-11-22T10:00:00Z');
const later = new Date('2026-11-22T11:00:00Z');

function input(overrides: Partial<ProductInput> = {}): ProductInput {
  return {
    name: 'Oolong tea 250 g',
    description: '',
    brand: 'Hill Garden',
    categories: ['food/tea'],
    attributes: { origin: 'Fujian' },
    imageUrls: [],
    skus: [
      {
        code: 'TEA-OOL-250',
        name: '250 g tin',
        attributes: {},
        prices: [{ channel: 'ONLINE', price: { currency: 'CNY', amountMinor: 6800 } }],
        sellableChannels: ['ONLINE', 'IN_STORE'],
        barcode: '6901234567892',
        imageUrls: [],
      },
    ],
    ...overrides,
  };
}

function violationsOf(fn: () => unknown): { kind: string; fields: string[] } {
  try {
    fn();
  } catch (error) {
    if (error instanceof CatalogueError) return { kind: error.kind, fields: error.violations.map((v) => v.field) };
    throw error;
  }
  throw new Error('expected a CatalogueError');
}

describe('Product', () => {
  it('is created as a draft at version 1 and announces ProductCreated', () => {
    const { product, events } = Product.create('p1', input(), now);
    expect(product.status).toBe('DRAFT');
    expect(product.version).toBe(1);
    expect(events).toEqual([{ type: 'ProductCreated', product: product.snapshot() }]);
  });

  it.each([
    ['empty name', input({ name: '  ' }), 'product.name'],
    ['10 MB name', input({ name: 'x'.repeat(10 * 1024 * 1024) }), 'product.name'],
    [
      'negative price',
      input({
        skus: [{ ...input().skus[0]!, prices: [{ channel: 'ONLINE', price: { currency: 'CNY', amountMinor: -1 } }] }],
      }),
      'product.skus[0].prices[0].price.amount_minor',
    ],
    [
      'fractional price',
      input({
        skus: [{ ...input().skus[0]!, prices: [{ channel: 'ONLINE', price: { currency: 'CNY', amountMinor: 12.5 } }] }],
      }),
      'product.skus[0].prices[0].price.amount_minor',
    ],
    [
      'unknown currency',
      input({
        skus: [{ ...input().skus[0]!, prices: [{ channel: 'ONLINE', price: { currency: 'XYZ', amountMinor: 100 } }] }],
      }),
      'product.skus[0].prices[0].price.currency_code',
    ],
    [
      'duplicate SKU in the product',
      input({ skus: [input().skus[0]!, { ...input().skus[0]!, barcode: '' }] }),
      'product.skus[1].code',
    ],
    ['no SKU', input({ skus: [] }), 'product.skus'],
    ['bad category', input({ categories: ['Food//Tea'] }), 'product.categories[0]'],
    ['bad image URL', input({ imageUrls: ['javascript:alert(1)'] }), 'product.image_urls[0]'],
  ])('refuses %s, naming the field', (_case, bad, field) => {
    const result = violationsOf(() => Product.create('p1', bad, now));
    expect(result.kind).toBe('invalid-argument');
    expect(result.fields).toContain(field);
  });

  it('reports every problem at once', () => {
    const result = violationsOf(() => Product.create('p1', input({ name: '', categories: ['BAD'] }), now));
    expect(result.fields).toEqual(['product.name', 'product.categories[0]']);
  });

  it('updates only the masked fields, bumps the version, and announces price changes', () => {
    const { product } = Product.create('p1', input(), now);
    const skus = [
      { ...input().skus[0]!, prices: [{ channel: 'ONLINE' as const, price: { currency: 'CNY', amountMinor: 5900 } }] },
    ];
    const events = product.update(input({ name: 'ignored', skus }), ['skus'], later);
    expect(product.version).toBe(2);
    expect(product.snapshot().name).toBe('Oolong tea 250 g');
    expect(events.map((e) => e.type)).toEqual(['PriceChanged', 'ProductUpdated']);
    expect(events[0]).toMatchObject({
      previousPrice: { amountMinor: 6800 },
      price: { amountMinor: 5900 },
      productVersion: 2,
    });
  });

  it('changes nothing when an update changes nothing', () => {
    const { product } = Product.create('p1', input(), now);
    expect(product.update(input(), ['name', 'skus'], later)).toEqual([]);
    expect(product.version).toBe(1);
  });

  it('sets a price per channel and currency, and says so once', () => {
    const { product } = Product.create('p1', input(), now);
    const events = product.setPrice('TEA-OOL-250', 'STORE', { currency: 'CNY', amountMinor: 6500 }, later);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'PriceChanged',
        channel: 'STORE',
        previousPrice: undefined,
        price: { currency: 'CNY', amountMinor: 6500 },
      }),
    ]);
    expect(product.setPrice('TEA-OOL-250', 'STORE', { currency: 'CNY', amountMinor: 6500 }, later)).toEqual([]);
    expect(
      violationsOf(() => product.setPrice('NOPE', 'STORE', { currency: 'CNY', amountMinor: 1 }, later)).fields,
    ).toEqual(['sku_code']);
  });

  it('runs draft → active → discontinued and refuses illegal transitions without changing anything', () => {
    const { product } = Product.create('p1', input(), now);
    expect(product.activate(later).map((e) => e.type)).toEqual(['ProductUpdated']);
    expect(product.status).toBe('ACTIVE');
    expect(violationsOf(() => product.activate(later)).kind).toBe('failed-precondition');
    expect(product.discontinue('end of range', later)).toEqual([
      {
        type: 'ProductDiscontinued',
        productId: 'p1',
        skuCodes: ['TEA-OOL-250'],
        reason: 'end of range',
        productVersion: 3,
      },
    ]);
    const before = product.snapshot();
    expect(
      violationsOf(() => product.setPrice('TEA-OOL-250', 'ONLINE', { currency: 'CNY', amountMinor: 1 }, later)).kind,
    ).toBe('failed-precondition');
    expect(violationsOf(() => product.update(input(), ['name'], later)).kind).toBe('failed-precondition');
    expect(product.snapshot()).toEqual(before);
  });

  it('cannot be activated while a SKU has no price', () => {
    const { product } = Product.create('p1', input({ skus: [{ ...input().skus[0]!, prices: [] }] }), now);
    expect(violationsOf(() => product.activate(later)).kind).toBe('failed-precondition');
    expect(product.status).toBe('DRAFT');
  });
});
