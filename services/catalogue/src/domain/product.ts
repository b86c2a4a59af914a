import { CatalogueError, type Violation } from './errors';
import { type Money, priceProblem, sameMoney } from './money';
import type { CatalogueEvent } from './events';

/** Where a product is in its life: draft → active → discontinued (final). */
export type ProductStatus = 'DRAFT' | 'ACTIVE' | 'DISCONTINUED';
/** Which price list: online channels or store tills and kiosks. */
export type PriceChannel = 'ONLINE' | 'STORE';
/** Where a SKU may be sold. */
export type SalesChannel = 'ONLINE' | 'IN_STORE' | 'STORE_KIOSK';

/** A price in one price list and currency. */
export interface ChannelPrice {
  channel: PriceChannel;
  price: Money;
}

/** A sellable variant. */
export interface Sku {
  code: string;
  name: string;
  attributes: Record<string, string>;
  prices: ChannelPrice[];
  sellableChannels: SalesChannel[];
  barcode: string;
  imageUrls: string[];
}

/** What a client may set on a product. */
export interface ProductInput {
  name: string;
  description: string;
  brand: string;
  categories: string[];
  attributes: Record<string, string>;
  imageUrls: string[];
  skus: Sku[];
}

/** The fields of ProductInput an update may name. */
export const UPDATABLE_FIELDS = [
  'name',
  'description',
  'brand',
  'categories',
  'attributes',
  'image_urls',
  'skus',
] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

/** A product's full state, as stored and as published. */
export interface ProductState extends ProductInput {
  id: string;
  status: ProductStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Explicit size limits: every string and list is bounded. */
export const LIMITS = {
  name: 200,
  description: 5000,
  brand: 100,
  categories: 20,
  categoryPath: 200,
  attributes: 50,
  attributeKey: 64,
  attributeValue: 500,
  imageUrls: 20,
  imageUrl: 2048,
  skus: 100,
  skuName: 200,
  pricesPerSku: 20,
  reason: 500,
} as const;

const SKU_CODE = /^[A-Za-z0-9._-]{1,64}$/;
const BARCODE = /^[0-9]{8,14}$/;
const CATEGORY = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\/[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
const PRICE_CHANNELS: readonly PriceChannel[] = ['ONLINE', 'STORE'];
const SALES_CHANNELS: readonly SalesChannel[] = ['ONLINE', 'IN_STORE', 'STORE_KIOSK'];

/** A product and the rules that protect it. State changes only through methods that return events. */
export class Product {
  private constructor(private state: ProductState) {}

  /** A new DRAFT product; throws INVALID_ARGUMENT listing every problem in the input. */
  static create(id: string, input: ProductInput, now: Date): { product: Product; events: CatalogueEvent[] } {
    assertValid(validateProductInput(input, 'product'));
    const product = new Product({ ...clone(input), id, status: 'DRAFT', version: 1, createdAt: now, updatedAt: now });
    return { product, events: [{ type: 'ProductCreated', product: product.snapshot() }] };
  }

  /** Rebuilds a product from storage (no validation, no events). */
  static fromState(state: ProductState): Product {
    return new Product(clone(state));
  }

  get id(): string {
    return this.state.id;
  }

  get version(): number {
    return this.state.version;
  }

  get status(): ProductStatus {
    return this.state.status;
  }

  /** A deep copy of the state. */
  snapshot(): ProductState {
    return clone(this.state);
  }

  /** Replaces the named fields; price changes it implies are announced as PriceChanged too. */
  update(input: ProductInput, fields: readonly UpdatableField[], now: Date): CatalogueEvent[] {
    this.assertNotDiscontinued('update');
    if (fields.length === 0) {
      throw CatalogueError.invalid([{ field: 'update_mask', description: 'must name at least one field' }]);
    }
    const next: ProductInput = { ...clone(this.state) };
    for (const field of fields) {
      switch (field) {
        case 'name':
          next.name = input.name;
          break;
        case 'description':
          next.description = input.description;
          break;
        case 'brand':
          next.brand = input.brand;
          break;
        case 'categories':
          next.categories = [...input.categories];
          break;
        case 'attributes':
          next.attributes = { ...input.attributes };
          break;
        case 'image_urls':
          next.imageUrls = [...input.imageUrls];
          break;
        case 'skus':
          next.skus = clone(input.skus);
          break;
      }
    }
    assertValid(validateProductInput(next, 'product'));
    const before = this.state;
    this.state = { ...before, ...next, version: before.version + 1, updatedAt: now };
    const changed = fields.filter(
      (f) => JSON.stringify(fieldValue(before, f)) !== JSON.stringify(fieldValue(this.state, f)),
    );
    if (changed.length === 0) {
      // Nothing actually changed: keep the version, publish nothing.
      this.state = before;
      return [];
    }
    return [
      ...this.priceEvents(before),
      { type: 'ProductUpdated', product: this.snapshot(), changedFields: [...changed] },
    ];
  }

  /** Sets one SKU's price for one channel and currency. */
  setPrice(skuCode: string, channel: PriceChannel, price: Money, now: Date): CatalogueEvent[] {
    this.assertNotDiscontinued('change the price of');
    const problem = priceProblem(price);
    if (problem) throw CatalogueError.invalid([{ field: `price.${problem.field}`, description: problem.description }]);
    const sku = this.state.skus.find((s) => s.code === skuCode);
    if (!sku) {
      throw CatalogueError.invalid([
        { field: 'sku_code', description: `product "${this.id}" has no SKU "${skuCode}"` },
      ]);
    }
    const existing = sku.prices.find((p) => p.channel === channel && p.price.currency === price.currency);
    if (existing && sameMoney(existing.price, price)) return [];
    const before = clone(this.state);
    if (existing) existing.price = { ...price };
    else {
      if (sku.prices.length >= LIMITS.pricesPerSku) {
        throw CatalogueError.invalid([
          { field: 'sku_code', description: `at most ${LIMITS.pricesPerSku} prices per SKU` },
        ]);
      }
      sku.prices.push({ channel, price: { ...price } });
    }
    this.state.version += 1;
    this.state.updatedAt = now;
    return this.priceEvents(before);
  }

  /** DRAFT → ACTIVE. Activating an active product is refused so that clients notice a lost update. */
  activate(now: Date): CatalogueEvent[] {
    if (this.state.status !== 'DRAFT') {
      throw new CatalogueError(
        'failed-precondition',
        `Cannot activate product "${this.id}": it is ${this.state.status.toLowerCase()}, only a draft can be activated`,
      );
    }
    const unpriced = this.state.skus.filter((s) => s.prices.length === 0).map((s) => s.code);
    if (unpriced.length > 0) {
      throw new CatalogueError(
        'failed-precondition',
        `Cannot activate product "${this.id}": SKUs without a price: ${unpriced.join(', ')}`,
      );
    }
    this.state.status = 'ACTIVE';
    this.state.version += 1;
    this.state.updatedAt = now;
    return [{ type: 'ProductUpdated', product: this.snapshot(), changedFields: ['status'] }];
  }

  /** DRAFT or ACTIVE → DISCONTINUED, for good. */
  discontinue(reason: string, now: Date): CatalogueEvent[] {
    this.assertNotDiscontinued('discontinue');
    if (reason.length > LIMITS.reason) {
      throw CatalogueError.invalid([{ field: 'reason', description: `must be at most ${LIMITS.reason} characters` }]);
    }
    this.state.status = 'DISCONTINUED';
    this.state.version += 1;
    this.state.updatedAt = now;
    return [
      {
        type: 'ProductDiscontinued',
        productId: this.id,
        skuCodes: this.state.skus.map((s) => s.code),
        reason,
        productVersion: this.state.version,
      },
    ];
  }

  private assertNotDiscontinued(action: string): void {
    if (this.state.status === 'DISCONTINUED') {
      throw new CatalogueError('failed-precondition', `Cannot ${action} product "${this.id}": it is discontinued`);
    }
  }

  private priceEvents(before: ProductState): CatalogueEvent[] {
    const events: CatalogueEvent[] = [];
    for (const sku of this.state.skus) {
      const old = before.skus.find((s) => s.code === sku.code);
      for (const p of sku.prices) {
        const previous = old?.prices.find((o) => o.channel === p.channel && o.price.currency === p.price.currency);
        if (sameMoney(previous?.price, p.price)) continue;
        events.push({
          type: 'PriceChanged',
          productId: this.id,
          skuCode: sku.code,
          channel: p.channel,
          previousPrice: previous?.price,
          price: { ...p.price },
          productVersion: this.state.version,
        });
      }
    }
    return events;
  }
}

function fieldValue(state: ProductInput, field: UpdatableField): unknown {
  return field === 'image_urls' ? state.imageUrls : state[field];
}

function assertValid(violations: Violation[]): void {
  if (violations.length > 0) throw CatalogueError.invalid(violations);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Every problem with a product's editable fields, as API field paths under `prefix`. */
export function validateProductInput(input: ProductInput, prefix: string): Violation[] {
  const v: Violation[] = [];
  const at = (field: string, description: string) => v.push({ field: `${prefix}.${field}`, description });
  const text = (field: string, value: string, max: number, required = false) => {
    if (required && value.trim().length === 0) at(field, 'must not be empty');
    else if (value.length > max) at(field, `must be at most ${max} characters (got ${value.length})`);
  };
  text('name', input.name, LIMITS.name, true);
  text('description', input.description, LIMITS.description);
  text('brand', input.brand, LIMITS.brand);

  if (input.categories.length > LIMITS.categories) at('categories', `at most ${LIMITS.categories} categories`);
  else
    input.categories.forEach((c, i) => {
      if (c.length > LIMITS.categoryPath || !CATEGORY.test(c)) {
        at(
          `categories[${i}]`,
          'must be a lower-case path like "food/snacks" (a-z, 0-9, "-", "/"), at most 200 characters',
        );
      }
    });
  checkAttributes(input.attributes, 'attributes', at);
  checkUrls(input.imageUrls, 'image_urls', at);

  if (input.skus.length === 0) at('skus', 'a product needs at least one SKU');
  else if (input.skus.length > LIMITS.skus) at('skus', `at most ${LIMITS.skus} SKUs per product`);
  else {
    const codes = new Set<string>();
    const barcodes = new Set<string>();
    input.skus.forEach((sku, i) => {
      const f = `skus[${i}]`;
      if (!SKU_CODE.test(sku.code)) at(`${f}.code`, 'must be 1..64 characters of A-Z a-z 0-9 . _ -');
      else if (codes.has(sku.code)) at(`${f}.code`, `duplicate SKU code "${sku.code}" in this product`);
      codes.add(sku.code);
      text(`${f}.name`, sku.name, LIMITS.skuName);
      if (sku.barcode !== '') {
        if (!BARCODE.test(sku.barcode)) at(`${f}.barcode`, 'must be 8..14 digits (EAN/UPC)');
        else if (barcodes.has(sku.barcode)) at(`${f}.barcode`, `duplicate barcode "${sku.barcode}" in this product`);
        barcodes.add(sku.barcode);
      }
      checkAttributes(sku.attributes, `${f}.attributes`, at);
      checkUrls(sku.imageUrls, `${f}.image_urls`, at);
      if (sku.prices.length > LIMITS.pricesPerSku) at(`${f}.prices`, `at most ${LIMITS.pricesPerSku} prices per SKU`);
      const seen = new Set<string>();
      sku.prices.forEach((p, j) => {
        const pf = `${f}.prices[${j}]`;
        if (!PRICE_CHANNELS.includes(p.channel)) at(`${pf}.channel`, 'must be ONLINE or STORE');
        const problem = priceProblem(p.price);
        if (problem) at(`${pf}.price.${problem.field}`, problem.description);
        const key = `${p.channel}/${p.price.currency}`;
        if (seen.has(key)) at(pf, `a second ${p.channel} price in ${p.price.currency}`);
        seen.add(key);
      });
      const channels = new Set<string>();
      sku.sellableChannels.forEach((c, j) => {
        if (!SALES_CHANNELS.includes(c)) at(`${f}.sellable_channels[${j}]`, 'must be ONLINE, IN_STORE or STORE_KIOSK');
        else if (channels.has(c)) at(`${f}.sellable_channels[${j}]`, `duplicate channel ${c}`);
        channels.add(c);
      });
    });
  }
  return v;
}

function checkAttributes(attrs: Record<string, string>, field: string, at: (f: string, d: string) => void): void {
  const keys = Object.keys(attrs);
  if (keys.length > LIMITS.attributes) return at(field, `at most ${LIMITS.attributes} attributes`);
  for (const k of keys) {
    if (k.length === 0 || k.length > LIMITS.attributeKey)
      at(`${field}["${k.slice(0, 64)}"]`, 'key must be 1..64 characters');
    else if ((attrs[k] ?? '').length > LIMITS.attributeValue) {
      at(`${field}["${k}"]`, `value must be at most ${LIMITS.attributeValue} characters`);
    }
  }
}

function checkUrls(urls: string[], field: string, at: (f: string, d: string) => void): void {
  if (urls.length > LIMITS.imageUrls) return at(field, `at most ${LIMITS.imageUrls} image URLs`);
  urls.forEach((u, i) => {
    if (u.length > LIMITS.imageUrl || !/^https?:\/\/[^\s]+$/.test(u)) {
      at(`${field}[${i}]`, 'must be an http(s) URL of at most 2048 characters');
    }
  });
}
