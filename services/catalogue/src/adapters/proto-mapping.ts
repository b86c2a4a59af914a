// Proto ↔ domain mapping for the catalogue. Generated types stay in adapters; the domain never sees them.
import * as pb from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import type { Money as PbMoney } from '@o2o/contracts/gen/o2o/common/v1/money';
import { invertEnumTable, moneyFromWire, moneyToWire } from '@o2o/kit-grpc';
import { CatalogueError, type Violation } from '../domain/errors';
import type { Money } from '../domain/money';
import type {
  ChannelPrice,
  PriceChannel,
  ProductInput,
  ProductState,
  ProductStatus,
  SalesChannel,
  Sku,
} from '../domain/product';

// One table per enum, domain → wire; the wire → domain direction is derived, so the two cannot drift apart.
const PRICE_CHANNEL_TO_PB: Record<PriceChannel, pb.PriceChannel> = {
  ONLINE: pb.PriceChannel.PRICE_CHANNEL_ONLINE,
  STORE: pb.PriceChannel.PRICE_CHANNEL_STORE,
};
const SALES_CHANNEL_TO_PB: Record<SalesChannel, pb.SalesChannel> = {
  ONLINE: pb.SalesChannel.SALES_CHANNEL_ONLINE,
  IN_STORE: pb.SalesChannel.SALES_CHANNEL_IN_STORE,
  STORE_KIOSK: pb.SalesChannel.SALES_CHANNEL_STORE_KIOSK,
};
const STATUS_TO_PB: Record<ProductStatus, pb.ProductStatus> = {
  DRAFT: pb.ProductStatus.PRODUCT_STATUS_DRAFT,
  ACTIVE: pb.ProductStatus.PRODUCT_STATUS_ACTIVE,
  DISCONTINUED: pb.ProductStatus.PRODUCT_STATUS_DISCONTINUED,
};
const PRICE_CHANNEL_TO_DOMAIN = invertEnumTable(PRICE_CHANNEL_TO_PB);
const SALES_CHANNEL_TO_DOMAIN = invertEnumTable(SALES_CHANNEL_TO_PB);
const STATUS_TO_DOMAIN = invertEnumTable(STATUS_TO_PB);

/** Collects mapping problems (unset enums, unparsable numbers) so they are reported with the domain's own. */
export class MappingViolations {
  readonly list: Violation[] = [];
  add(field: string, description: string): void {
    this.list.push({ field, description });
  }
  /** Throws INVALID_ARGUMENT if anything was collected. */
  check(): void {
    if (this.list.length > 0) throw CatalogueError.invalid(this.list);
  }
}

/** int64 minor units (a decimal string on the wire) → a safe integer, or a violation. */
export function moneyFromPb(money: PbMoney | undefined, field: string, v: MappingViolations): Money {
  return moneyFromWire(money, field, v);
}

/** Domain money → proto. */
export function moneyToPb(money: Money): PbMoney {
  return moneyToWire(money);
}

/** A proto price channel, or a violation for UNSPECIFIED/unknown values. */
export function priceChannelFromPb(channel: pb.PriceChannel, field: string, v: MappingViolations): PriceChannel {
  const mapped = PRICE_CHANNEL_TO_DOMAIN[channel];
  if (!mapped) v.add(field, 'must be PRICE_CHANNEL_ONLINE or PRICE_CHANNEL_STORE');
  return mapped ?? 'ONLINE';
}

/** A proto sales channel filter; UNSPECIFIED means no filter. */
export function salesChannelFilterFromPb(
  channel: pb.SalesChannel,
  field: string,
  v: MappingViolations,
): SalesChannel | undefined {
  if (channel === pb.SalesChannel.SALES_CHANNEL_UNSPECIFIED) return undefined;
  const mapped = SALES_CHANNEL_TO_DOMAIN[channel];
  if (!mapped) v.add(field, 'unknown sales channel');
  return mapped;
}

/** A proto status filter; UNSPECIFIED means no filter. */
export function statusFilterFromPb(
  status: pb.ProductStatus,
  field: string,
  v: MappingViolations,
): ProductStatus | undefined {
  if (status === pb.ProductStatus.PRODUCT_STATUS_UNSPECIFIED) return undefined;
  const mapped = STATUS_TO_DOMAIN[status];
  if (!mapped) v.add(field, 'unknown product status');
  return mapped;
}

function skuFromPb(sku: pb.Sku, field: string, v: MappingViolations): Sku {
  return {
    code: sku.code,
    name: sku.name,
    attributes: { ...sku.attributes },
    prices: sku.prices.map((p, j): ChannelPrice => ({
      channel: priceChannelFromPb(p.channel, `${field}.prices[${j}].channel`, v),
      price: moneyFromPb(p.price, `${field}.prices[${j}].price`, v),
    })),
    sellableChannels: sku.sellableChannels.map((c, j) => {
      const mapped = SALES_CHANNEL_TO_DOMAIN[c];
      if (!mapped) v.add(`${field}.sellable_channels[${j}]`, 'must be ONLINE, IN_STORE or STORE_KIOSK');
      return mapped ?? 'ONLINE';
    }),
    barcode: sku.barcode,
    imageUrls: [...sku.imageUrls],
  };
}

/** ProductInput from the wire; a missing message is an empty input (the domain then names the missing fields). */
export function productInputFromPb(
  input: pb.ProductInput | undefined,
  field: string,
  v: MappingViolations,
): ProductInput {
  const p = input ?? pb.ProductInput.fromPartial({});
  return {
    name: p.name,
    description: p.description,
    brand: p.brand,
    categories: [...p.categories],
    attributes: { ...p.attributes },
    imageUrls: [...p.imageUrls],
    skus: p.skus.map((s, i) => skuFromPb(s, `${field}.skus[${i}]`, v)),
  };
}

/** A SKU for the wire. */
export function skuToPb(sku: Sku): pb.Sku {
  return {
    code: sku.code,
    name: sku.name,
    attributes: { ...sku.attributes },
    prices: sku.prices.map((p) => ({ channel: PRICE_CHANNEL_TO_PB[p.channel], price: moneyToPb(p.price) })),
    sellableChannels: sku.sellableChannels.map((c) => SALES_CHANNEL_TO_PB[c]),
    barcode: sku.barcode,
    imageUrls: [...sku.imageUrls],
  };
}

/** A product for the wire. */
export function productToPb(state: ProductState): pb.Product {
  return {
    id: state.id,
    name: state.name,
    description: state.description,
    brand: state.brand,
    categories: [...state.categories],
    attributes: { ...state.attributes },
    imageUrls: [...state.imageUrls],
    skus: state.skus.map(skuToPb),
    status: STATUS_TO_PB[state.status],
    version: String(state.version),
    createTime: state.createdAt,
    updateTime: state.updatedAt,
  };
}

/** A product status for the wire. */
export function statusToPb(status: ProductStatus): pb.ProductStatus {
  return STATUS_TO_PB[status];
}

/** A price channel for the wire. */
export function priceChannelToPb(channel: PriceChannel): pb.PriceChannel {
  return PRICE_CHANNEL_TO_PB[channel];
}

/** An int64 version from the wire ("0" when unset). */
export function versionFromPb(version: string, field: string, v: MappingViolations): number {
  const n = Number(version);
  if (!/^\d+$/.test(version) || !Number.isSafeInteger(n)) v.add(field, 'must be a non-negative integer');
  return n;
}
