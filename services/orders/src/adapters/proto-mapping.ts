// Proto ↔ domain mapping for orders. Generated types stay in adapters; the domain never sees them.
import type { Address as PbAddress, GeoPoint as PbGeoPoint } from '@o2o/contracts/gen/o2o/common/v1/geo';
import * as pb from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { invertEnumTable, moneyToWire } from '@o2o/kit-grpc';
import { isEndlessAisle } from '../domain/order';
import type {
  Address,
  Channel,
  FulfilmentType,
  GeoPoint,
  GroupStatus,
  ItemQuantity,
  OrderLine,
  OrderReturn,
  OrderState,
  OrderStatus,
  PaymentMethod,
  PlacementInput,
  ReturnStatus,
  TimelineEntry,
  WalletChannel,
} from '../domain/types';

// One table per enum, domain → wire; the wire → domain direction is derived, so the two cannot drift apart.
const CHANNEL_TO_PB: Record<Channel, pb.Channel> = {
  WEB: pb.Channel.CHANNEL_WEB,
  APP: pb.Channel.CHANNEL_APP,
  MINI_PROGRAM: pb.Channel.CHANNEL_MINI_PROGRAM,
  STORE_POS: pb.Channel.CHANNEL_STORE_POS,
  STORE_KIOSK: pb.Channel.CHANNEL_STORE_KIOSK,
  MARKETPLACE: pb.Channel.CHANNEL_MARKETPLACE,
};
const FULFILMENT_TO_PB: Record<FulfilmentType, pb.FulfilmentType> = {
  HOME_DELIVERY: pb.FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
  SHIP_FROM_STORE: pb.FulfilmentType.FULFILMENT_TYPE_SHIP_FROM_STORE,
  STORE_PICKUP: pb.FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
  IN_STORE_CARRY_OUT: pb.FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT,
};
const METHOD_TO_PB: Record<PaymentMethod, pb.PaymentMethod> = {
  CARD: pb.PaymentMethod.PAYMENT_METHOD_CARD,
  WALLET_QR: pb.PaymentMethod.PAYMENT_METHOD_WALLET_QR,
  CASH: pb.PaymentMethod.PAYMENT_METHOD_CASH,
  STORE_TERMINAL: pb.PaymentMethod.PAYMENT_METHOD_STORE_TERMINAL,
};
const WALLET_TO_PB: Record<WalletChannel, pb.WalletChannel> = {
  ALIPAY: pb.WalletChannel.WALLET_CHANNEL_ALIPAY,
  WECHAT_PAY: pb.WalletChannel.WALLET_CHANNEL_WECHAT_PAY,
};
const ORDER_STATUS_TO_PB: Record<OrderStatus, pb.OrderStatus> = {
  PENDING: pb.OrderStatus.ORDER_STATUS_PENDING,
  AWAITING_PAYMENT: pb.OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
  CONFIRMED: pb.OrderStatus.ORDER_STATUS_CONFIRMED,
  IN_FULFILLMENT: pb.OrderStatus.ORDER_STATUS_IN_FULFILLMENT,
  READY_FOR_PICKUP: pb.OrderStatus.ORDER_STATUS_READY_FOR_PICKUP,
  OUT_FOR_DELIVERY: pb.OrderStatus.ORDER_STATUS_OUT_FOR_DELIVERY,
  PICKED_UP: pb.OrderStatus.ORDER_STATUS_PICKED_UP,
  DELIVERED: pb.OrderStatus.ORDER_STATUS_DELIVERED,
  COMPLETED: pb.OrderStatus.ORDER_STATUS_COMPLETED,
  REJECTED: pb.OrderStatus.ORDER_STATUS_REJECTED,
  CANCELLED: pb.OrderStatus.ORDER_STATUS_CANCELLED,
  RETURN_REQUESTED: pb.OrderStatus.ORDER_STATUS_RETURN_REQUESTED,
  PARTIALLY_RETURNED: pb.OrderStatus.ORDER_STATUS_PARTIALLY_RETURNED,
  RETURNED: pb.OrderStatus.ORDER_STATUS_RETURNED,
};
const GROUP_STATUS_TO_PB: Record<GroupStatus, pb.GroupStatus> = {
  PENDING: pb.GroupStatus.GROUP_STATUS_PENDING,
  HELD: pb.GroupStatus.GROUP_STATUS_HELD,
  CONFIRMED: pb.GroupStatus.GROUP_STATUS_CONFIRMED,
  IN_FULFILLMENT: pb.GroupStatus.GROUP_STATUS_IN_FULFILLMENT,
  READY_FOR_PICKUP: pb.GroupStatus.GROUP_STATUS_READY_FOR_PICKUP,
  OUT_FOR_DELIVERY: pb.GroupStatus.GROUP_STATUS_OUT_FOR_DELIVERY,
  PICKED_UP: pb.GroupStatus.GROUP_STATUS_PICKED_UP,
  DELIVERED: pb.GroupStatus.GROUP_STATUS_DELIVERED,
  HANDED_OVER: pb.GroupStatus.GROUP_STATUS_HANDED_OVER,
  CANCELLED: pb.GroupStatus.GROUP_STATUS_CANCELLED,
  DELIVERY_FAILED: pb.GroupStatus.GROUP_STATUS_DELIVERY_FAILED,
  REROUTED: pb.GroupStatus.GROUP_STATUS_REROUTED,
};
// The wire has no RECEIVED (goods arrived, restock and refund still being carried out): clients see REQUESTED until
// REFUNDED, with `settling` true meanwhile. So this table is not inverted; nothing reads a return status back.
const RETURN_STATUS_TO_PB: Record<ReturnStatus, pb.ReturnStatus> = {
  REQUESTED: pb.ReturnStatus.RETURN_STATUS_REQUESTED,
  RECEIVED: pb.ReturnStatus.RETURN_STATUS_REQUESTED,
  REFUNDED: pb.ReturnStatus.RETURN_STATUS_REFUNDED,
};
const CHANNEL_TO_DOMAIN = invertEnumTable(CHANNEL_TO_PB);
const FULFILMENT_TO_DOMAIN = invertEnumTable(FULFILMENT_TO_PB);
const METHOD_TO_DOMAIN = invertEnumTable(METHOD_TO_PB);
const WALLET_TO_DOMAIN = invertEnumTable(WALLET_TO_PB);
const ORDER_STATUS_TO_DOMAIN = invertEnumTable(ORDER_STATUS_TO_PB);

/** A wire channel, or undefined for UNSPECIFIED and unknown numbers (ListOrders: no filter; PlaceOrder: a violation). */
export function channelFromPb(channel: pb.Channel): Channel | undefined {
  return CHANNEL_TO_DOMAIN[channel];
}

/** A channel for the wire. */
export function channelToPb(channel: Channel): pb.Channel {
  return CHANNEL_TO_PB[channel];
}

/** A wire order status, or undefined for UNSPECIFIED and unknown numbers (the caller names the field). */
export function orderStatusFromPb(status: pb.OrderStatus): OrderStatus | undefined {
  return ORDER_STATUS_TO_DOMAIN[status];
}

/** An order status for the wire. */
export function orderStatusToPb(status: OrderStatus): pb.OrderStatus {
  return ORDER_STATUS_TO_PB[status];
}

/**
 * An int64 of the request (a decimal string on the wire) → a number. Anything not a safe integer becomes NaN, which
 * the domain's validation reports on the field, so a mapping problem reads like any other bad value.
 */
export function int64FromPb(value: string): number {
  const n = Number(value);
  return /^-?\d+$/.test(value) && Number.isSafeInteger(n) ? n : NaN;
}

/**
 * PlaceOrder's content as the domain validates it: unset messages, UNSPECIFIED (or unknown) enums and empty
 * optional ids become undefined, so the domain can name every field at fault.
 */
export function placementFromPb(req: pb.PlaceOrderRequest): PlacementInput {
  const input: PlacementInput = {
    requestId: req.requestId,
    channel: CHANNEL_TO_DOMAIN[req.channel],
    customerId: req.customerId || undefined,
    storeId: req.storeId || undefined,
    associateId: req.associateId || undefined,
    lines: req.lines.map((l) => ({ skuCode: l.skuCode, quantity: int64FromPb(l.quantity) })),
    currency: req.currency,
  };
  if (req.marketplace) {
    input.marketplace = { partnerId: req.marketplace.partnerId, externalOrderId: req.marketplace.externalOrderId };
  }
  if (req.fulfilment) {
    const f = req.fulfilment;
    input.fulfilment = {
      type: FULFILMENT_TO_DOMAIN[f.type],
      pickupLocationId: f.pickupLocationId || undefined,
    };
    if (f.delivery) {
      input.fulfilment.delivery = {
        point: f.delivery.point ? pointFromPb(f.delivery.point) : undefined,
        address: f.delivery.address ? addressFromPb(f.delivery.address) : undefined,
        recipientName: f.delivery.recipientName,
        recipientPhone: f.delivery.recipientPhone,
      };
    }
  }
  if (req.payment) {
    const p = req.payment;
    input.payment = {
      method: METHOD_TO_DOMAIN[p.method],
      cardNumber: p.card?.number || undefined,
      walletChannel: WALLET_TO_DOMAIN[p.walletChannel],
      terminalId: p.terminalId || undefined,
    };
  }
  return input;
}

/** An order for the wire. `settling` says work the order decided on is still being carried out. */
export function orderToPb(state: OrderState): pb.Order {
  const money = (amountMinor: number) => moneyToWire({ currency: state.currency, amountMinor });
  const payment = state.payment;
  return {
    id: state.id,
    channel: CHANNEL_TO_PB[state.channel],
    customerId: state.customerId ?? '',
    storeId: state.storeId ?? '',
    associateId: state.associateId ?? '',
    marketplace: state.marketplace
      ? { partnerId: state.marketplace.partnerId, externalOrderId: state.marketplace.externalOrderId }
      : undefined,
    lines: state.lines.map(lineToPb),
    total: money(state.totalMinor),
    fulfilment: {
      type: FULFILMENT_TO_PB[state.fulfilment.type],
      delivery: state.fulfilment.delivery
        ? {
            point: pointToPb(state.fulfilment.delivery.point),
            address: state.fulfilment.delivery.address ? addressToPb(state.fulfilment.delivery.address) : undefined,
            recipientName: state.fulfilment.delivery.recipientName,
            recipientPhone: state.fulfilment.delivery.recipientPhone,
          }
        : undefined,
      pickupLocationId: state.fulfilment.pickupLocationId ?? '',
    },
    groups: state.groups.map((g) => ({
      id: g.id,
      type: FULFILMENT_TO_PB[g.type],
      locationId: g.locationId,
      items: g.items.map(itemToPb),
      status: GROUP_STATUS_TO_PB[g.status],
      holdId: g.holdId,
      sameDay: g.sameDay,
      distanceM: String(g.distanceM),
      amount: moneyToWire(g.amount),
    })),
    payment: {
      method: METHOD_TO_PB[payment.method],
      paymentId: payment.paymentId ?? '',
      authorized: money(payment.authorizedMinor),
      captured: money(payment.capturedMinor),
      refunded: money(payment.refundedMinor),
      cardLast4: payment.cardLast4 ?? '',
      walletChannel: payment.walletChannel
        ? WALLET_TO_PB[payment.walletChannel]
        : pb.WalletChannel.WALLET_CHANNEL_UNSPECIFIED,
      walletQrPayload: payment.walletQrPayload ?? '',
      payBy: payment.payBy,
    },
    status: ORDER_STATUS_TO_PB[state.status],
    statusReason: state.statusReason ?? '',
    returns: state.returns.map(returnToPb),
    settling: state.tasks.length > 0,
    version: String(state.version),
    createTime: state.createdAt,
    updateTime: state.updatedAt,
    endlessAisle: isEndlessAisle(state),
  };
}

/** A timeline entry for the wire. */
export function timelineEntryToPb(entry: TimelineEntry): pb.TimelineEntry {
  return {
    sequence: String(entry.sequence),
    time: entry.at,
    status: ORDER_STATUS_TO_PB[entry.status],
    cause: entry.cause,
    groupId: entry.groupId ?? '',
  };
}

function lineToPb(line: OrderLine): pb.OrderLine {
  return {
    skuCode: line.skuCode,
    quantity: String(line.quantity),
    unitPrice: line.unitPrice ? moneyToWire(line.unitPrice) : undefined,
    lineTotal: line.unitPrice
      ? moneyToWire({ currency: line.unitPrice.currency, amountMinor: line.unitPrice.amountMinor * line.quantity })
      : undefined,
    productId: line.productId ?? '',
    productName: line.productName ?? '',
    returnedQuantity: String(line.returnedQuantity),
  };
}

function returnToPb(r: OrderReturn): pb.Return {
  return {
    id: r.id,
    status: RETURN_STATUS_TO_PB[r.status],
    locationId: r.locationId,
    lines: r.lines.map(itemToPb),
    refundAmount: moneyToWire(r.refund),
    reason: r.reason,
    requestTime: r.requestedAt,
    refundTime: r.refundedAt,
  };
}

function itemToPb(item: ItemQuantity): { skuCode: string; quantity: string } {
  return { skuCode: item.skuCode, quantity: String(item.quantity) };
}

function pointFromPb(point: PbGeoPoint): GeoPoint {
  return { latitude: point.latitude, longitude: point.longitude };
}

function pointToPb(point: GeoPoint): PbGeoPoint {
  return { latitude: point.latitude, longitude: point.longitude };
}

// The order keeps delivery.point as the one location, so the address's own geocoded point is not kept.
function addressFromPb(address: PbAddress): Address {
  return {
    lines: [...address.lines],
    district: address.district,
    city: address.city,
    region: address.region,
    postalCode: address.postalCode,
    countryCode: address.countryCode,
  };
}

function addressToPb(address: Address): PbAddress {
  return {
    lines: [...address.lines],
    district: address.district,
    city: address.city,
    region: address.region,
    postalCode: address.postalCode,
    countryCode: address.countryCode,
    location: undefined,
  };
}
