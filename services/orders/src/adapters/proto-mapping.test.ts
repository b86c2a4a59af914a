import * as events from '@o2o/contracts/gen/o2o/orders/v1/events';
import * as pb from '@o2o/contracts/gen/o2o/orders/v1/orders';
import type { Channel, OrderState, OrderStatus } from '../domain/types';
import { ORDERS_SOURCE, ordersEventEncoder } from './event-encoder';
import {
  channelFromPb,
  channelToPb,
  int64FromPb,
  orderStatusFromPb,
  orderStatusToPb,
  orderToPb,
  placementFromPb,
  timelineEntryToPb,
} from './proto-mapping';

const at = new Date('2026-11-22T10:00:00.000Z');
const later = new Date('2026-11-22T10:05:00.000Z');

function placeRequest(overrides: Partial<pb.PlaceOrderRequest> = {}): pb.PlaceOrderRequest {
  return {
    requestId: 'req-1',
    channel: pb.Channel.CHANNEL_WEB,
    customerId: 'cus-1',
    storeId: '',
    associateId: '',
    marketplace: undefined,
    lines: [
      { skuCode: 'TEA-1', quantity: '2' },
      { skuCode: 'CUP-1', quantity: '1' },
    ],
    currency: 'CNY',
    fulfilment: {
      type: pb.FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
      delivery: {
        point: { latitude: 31.23, longitude: 121.47 },
        address: {
          lines: ['100 Nanjing East Road'],
          district: 'Huangpu',
          city: 'Shanghai',
          region: 'Shanghai',
          postalCode: '200001',
          countryCode: 'CN',
          location: undefined,
        },
        recipientName: 'Li Lei',
        recipientPhone: '+8613800000000',
      },
      pickupLocationId: '',
    },
    payment: {
      method: pb.PaymentMethod.PAYMENT_METHOD_CARD,
      card: { number: '4242424242424242' },
      walletChannel: pb.WalletChannel.WALLET_CHANNEL_UNSPECIFIED,
      terminalId: '',
    },
    ...overrides,
  };
}

function orderState(overrides: Partial<OrderState> = {}): OrderState {
  return {
    id: 'ord-1',
    channel: 'STORE_KIOSK',
    customerId: 'cus-1',
    storeId: 'sh-nanjing-rd',
    associateId: undefined,
    currency: 'CNY',
    lines: [
      {
        skuCode: 'TEA-1',
        quantity: 3,
        unitPrice: { currency: 'CNY', amountMinor: 1250 },
        productId: 'prd-1',
        productName: 'Longjing tea',
        returnedQuantity: 1,
      },
      { skuCode: 'CUP-1', quantity: 1, returnedQuantity: 0 },
    ],
    totalMinor: 3750,
    fulfilment: {
      type: 'HOME_DELIVERY',
      delivery: {
        point: { latitude: 31.23, longitude: 121.47 },
        address: {
          lines: ['1 Road'],
          district: 'Huangpu',
          city: 'Shanghai',
          region: 'Shanghai',
          postalCode: '200001',
          countryCode: 'CN',
        },
        recipientName: 'Li Lei',
        recipientPhone: '+8613800000000',
      },
    },
    groups: [
      {
        id: 'g1',
        type: 'HOME_DELIVERY',
        locationId: 'wh-east',
        items: [{ skuCode: 'TEA-1', quantity: 3 }],
        status: 'OUT_FOR_DELIVERY',
        holdId: 'ord-1:g1',
        sameDay: true,
        distanceM: 4200,
        amount: { currency: 'CNY', amountMinor: 3750 },
        captured: true,
        dispatched: true,
      },
    ],
    payment: {
      method: 'WALLET_QR',
      walletChannel: 'ALIPAY',
      paymentId: 'pay_1',
      authorizedMinor: 3750,
      capturedMinor: 3750,
      refundedMinor: 1250,
      walletQrPayload: 'qr://pay_1',
      payBy: later,
    },
    status: 'RETURN_REQUESTED',
    returns: [
      {
        id: 'r1',
        requestId: 'req-r1',
        status: 'RECEIVED',
        locationId: 'sh-nanjing-rd',
        lines: [{ skuCode: 'TEA-1', quantity: 1 }],
        refund: { currency: 'CNY', amountMinor: 1250 },
        reason: 'too strong',
        requestedAt: at,
      },
      {
        id: 'r2',
        requestId: 'req-r2',
        status: 'REFUNDED',
        locationId: 'sh-nanjing-rd',
        lines: [{ skuCode: 'TEA-1', quantity: 1 }],
        refund: { currency: 'CNY', amountMinor: 1250 },
        reason: 'gift',
        requestedAt: at,
        refundedAt: later,
      },
    ],
    tasks: [
      {
        kind: 'RESTOCK',
        key: 'ord-1:restock:r1',
        locationId: 'sh-nanjing-rd',
        items: [{ skuCode: 'TEA-1', quantity: 1 }],
        id: 7,
        attempts: 2,
        lastError: 'inventory: UNAVAILABLE',
      },
    ],
    nextTaskId: 8,
    timeline: [{ sequence: 1, at, status: 'PENDING', cause: 'placed' }],
    placementDeadline: later,
    version: 12,
    createdAt: at,
    updatedAt: later,
    ...overrides,
  };
}

describe('placementFromPb', () => {
  it('reads a full request, int64 quantities as numbers and the card number kept for the saga', () => {
    expect(placementFromPb(placeRequest())).toEqual({
      requestId: 'req-1',
      channel: 'WEB',
      customerId: 'cus-1',
      storeId: undefined,
      associateId: undefined,
      lines: [
        { skuCode: 'TEA-1', quantity: 2 },
        { skuCode: 'CUP-1', quantity: 1 },
      ],
      currency: 'CNY',
      fulfilment: {
        type: 'HOME_DELIVERY',
        pickupLocationId: undefined,
        delivery: {
          point: { latitude: 31.23, longitude: 121.47 },
          address: {
            lines: ['100 Nanjing East Road'],
            district: 'Huangpu',
            city: 'Shanghai',
            region: 'Shanghai',
            postalCode: '200001',
            countryCode: 'CN',
          },
          recipientName: 'Li Lei',
          recipientPhone: '+8613800000000',
        },
      },
      payment: { method: 'CARD', cardNumber: '4242424242424242', walletChannel: undefined, terminalId: undefined },
    });
  });

  it('leaves UNSPECIFIED and unknown enums, empty ids and unset messages undefined, for validation to name', () => {
    const input = placementFromPb(
      placeRequest({
        channel: pb.Channel.CHANNEL_UNSPECIFIED,
        customerId: '',
        fulfilment: { type: 99 as pb.FulfilmentType, delivery: undefined, pickupLocationId: '' },
        payment: {
          method: pb.PaymentMethod.PAYMENT_METHOD_UNSPECIFIED,
          card: undefined,
          walletChannel: pb.WalletChannel.UNRECOGNIZED,
          terminalId: '',
        },
      }),
    );
    expect(input.channel).toBeUndefined();
    expect(input.customerId).toBeUndefined();
    expect(input.fulfilment).toEqual({ type: undefined, pickupLocationId: undefined });
    expect(input.payment).toEqual({
      method: undefined,
      cardNumber: undefined,
      walletChannel: undefined,
      terminalId: undefined,
    });
    const bare = placementFromPb(placeRequest({ fulfilment: undefined, payment: undefined }));
    expect(bare.fulfilment).toBeUndefined();
    expect(bare.payment).toBeUndefined();
    expect(bare.marketplace).toBeUndefined();
  });

  it('reads the store and marketplace fields and a delivery without point or address', () => {
    const input = placementFromPb(
      placeRequest({
        channel: pb.Channel.CHANNEL_STORE_POS,
        storeId: 'sh-1',
        associateId: 'emp-7',
        marketplace: { partnerId: 'tmall', externalOrderId: 'T-1' },
        fulfilment: {
          type: pb.FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
          delivery: { point: undefined, address: undefined, recipientName: '', recipientPhone: '' },
          pickupLocationId: 'sh-2',
        },
        payment: {
          method: pb.PaymentMethod.PAYMENT_METHOD_STORE_TERMINAL,
          card: { number: '' },
          walletChannel: pb.WalletChannel.WALLET_CHANNEL_WECHAT_PAY,
          terminalId: 'till-3',
        },
      }),
    );
    expect(input).toMatchObject({
      channel: 'STORE_POS',
      storeId: 'sh-1',
      associateId: 'emp-7',
      marketplace: { partnerId: 'tmall', externalOrderId: 'T-1' },
      fulfilment: {
        type: 'STORE_PICKUP',
        pickupLocationId: 'sh-2',
        delivery: { point: undefined, address: undefined, recipientName: '', recipientPhone: '' },
      },
      payment: { method: 'STORE_TERMINAL', cardNumber: undefined, walletChannel: 'WECHAT_PAY', terminalId: 'till-3' },
    });
  });

  it('turns an int64 that is not a safe integer into NaN, so validation names the line', () => {
    const lines = ['9007199254740993', '1.5', '', 'abc', '-3', '0'].map((quantity) => ({ skuCode: 'A', quantity }));
    expect(placementFromPb(placeRequest({ lines })).lines.map((l) => l.quantity)).toEqual([NaN, NaN, NaN, NaN, -3, 0]);
    expect(int64FromPb('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('orderToPb', () => {
  it('maps every field and survives a protobuf encode/decode unchanged', () => {
    const order = orderToPb(orderState());
    expect(order).toEqual({
      id: 'ord-1',
      channel: pb.Channel.CHANNEL_STORE_KIOSK,
      customerId: 'cus-1',
      storeId: 'sh-nanjing-rd',
      associateId: '',
      marketplace: undefined,
      lines: [
        {
          skuCode: 'TEA-1',
          quantity: '3',
          unitPrice: { currencyCode: 'CNY', amountMinor: '1250' },
          lineTotal: { currencyCode: 'CNY', amountMinor: '3750' },
          productId: 'prd-1',
          productName: 'Longjing tea',
          returnedQuantity: '1',
        },
        {
          skuCode: 'CUP-1',
          quantity: '1',
          unitPrice: undefined,
          lineTotal: undefined,
          productId: '',
          productName: '',
          returnedQuantity: '0',
        },
      ],
      total: { currencyCode: 'CNY', amountMinor: '3750' },
      fulfilment: {
        type: pb.FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
        delivery: {
          point: { latitude: 31.23, longitude: 121.47 },
          address: {
            lines: ['1 Road'],
            district: 'Huangpu',
            city: 'Shanghai',
            region: 'Shanghai',
            postalCode: '200001',
            countryCode: 'CN',
            location: undefined,
          },
          recipientName: 'Li Lei',
          recipientPhone: '+8613800000000',
        },
        pickupLocationId: '',
      },
      groups: [
        {
          id: 'g1',
          type: pb.FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
          locationId: 'wh-east',
          items: [{ skuCode: 'TEA-1', quantity: '3' }],
          status: pb.GroupStatus.GROUP_STATUS_OUT_FOR_DELIVERY,
          holdId: 'ord-1:g1',
          sameDay: true,
          distanceM: '4200',
          amount: { currencyCode: 'CNY', amountMinor: '3750' },
        },
      ],
      payment: {
        method: pb.PaymentMethod.PAYMENT_METHOD_WALLET_QR,
        paymentId: 'pay_1',
        authorized: { currencyCode: 'CNY', amountMinor: '3750' },
        captured: { currencyCode: 'CNY', amountMinor: '3750' },
        refunded: { currencyCode: 'CNY', amountMinor: '1250' },
        cardLast4: '',
        walletChannel: pb.WalletChannel.WALLET_CHANNEL_ALIPAY,
        walletQrPayload: 'qr://pay_1',
        payBy: later,
      },
      status: pb.OrderStatus.ORDER_STATUS_RETURN_REQUESTED,
      statusReason: '',
      returns: [
        {
          id: 'r1',
          status: pb.ReturnStatus.RETURN_STATUS_REQUESTED,
          locationId: 'sh-nanjing-rd',
          lines: [{ skuCode: 'TEA-1', quantity: '1' }],
          refundAmount: { currencyCode: 'CNY', amountMinor: '1250' },
          reason: 'too strong',
          requestTime: at,
          refundTime: undefined,
        },
        {
          id: 'r2',
          status: pb.ReturnStatus.RETURN_STATUS_REFUNDED,
          locationId: 'sh-nanjing-rd',
          lines: [{ skuCode: 'TEA-1', quantity: '1' }],
          refundAmount: { currencyCode: 'CNY', amountMinor: '1250' },
          reason: 'gift',
          requestTime: at,
          refundTime: later,
        },
      ],
      settling: true,
      version: '12',
      createTime: at,
      updateTime: later,
      endlessAisle: true,
    });
    expect(pb.Order.decode(pb.Order.encode(order).finish())).toEqual(order);
  });

  it('is not settling without tasks, and leaves optional fields empty', () => {
    const order = orderToPb(
      orderState({
        tasks: [],
        customerId: undefined,
        storeId: undefined,
        marketplace: { partnerId: 'tmall', externalOrderId: 'T-1' },
        fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'sh-2' },
        payment: { method: 'CARD', cardLast4: '4242', authorizedMinor: 0, capturedMinor: 0, refundedMinor: 0 },
        status: 'REJECTED',
        statusReason: 'payment declined',
      }),
    );
    expect(order).toMatchObject({
      settling: false,
      customerId: '',
      storeId: '',
      marketplace: { partnerId: 'tmall', externalOrderId: 'T-1' },
      fulfilment: {
        type: pb.FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
        delivery: undefined,
        pickupLocationId: 'sh-2',
      },
      payment: {
        method: pb.PaymentMethod.PAYMENT_METHOD_CARD,
        paymentId: '',
        cardLast4: '4242',
        walletChannel: pb.WalletChannel.WALLET_CHANNEL_UNSPECIFIED,
        walletQrPayload: '',
        payBy: undefined,
        authorized: { currencyCode: 'CNY', amountMinor: '0' },
      },
      status: pb.OrderStatus.ORDER_STATUS_REJECTED,
      statusReason: 'payment declined',
    });
  });

  it('maps timeline entries', () => {
    expect(timelineEntryToPb({ sequence: 3, at, status: 'OUT_FOR_DELIVERY', cause: 'shipped', groupId: 'g1' })).toEqual(
      {
        sequence: '3',
        time: at,
        status: pb.OrderStatus.ORDER_STATUS_OUT_FOR_DELIVERY,
        cause: 'shipped',
        groupId: 'g1',
      },
    );
    expect(timelineEntryToPb({ sequence: 1, at, status: 'PENDING', cause: 'placed' }).groupId).toBe('');
  });
});

describe('enum tables for ListOrders filters', () => {
  const statuses: OrderStatus[] = [
    'PENDING',
    'AWAITING_PAYMENT',
    'CONFIRMED',
    'IN_FULFILLMENT',
    'READY_FOR_PICKUP',
    'OUT_FOR_DELIVERY',
    'PICKED_UP',
    'DELIVERED',
    'COMPLETED',
    'REJECTED',
    'CANCELLED',
    'RETURN_REQUESTED',
    'PARTIALLY_RETURNED',
    'RETURNED',
  ];
  const channels: Channel[] = ['WEB', 'APP', 'MINI_PROGRAM', 'STORE_POS', 'STORE_KIOSK', 'MARKETPLACE'];

  it('round-trips every status and channel, each to its own wire value, and names the wire value alike', () => {
    for (const s of statuses) {
      expect(orderStatusFromPb(orderStatusToPb(s))).toBe(s);
      expect(pb.OrderStatus[orderStatusToPb(s)]).toBe(`ORDER_STATUS_${s}`);
    }
    for (const c of channels) {
      expect(channelFromPb(channelToPb(c))).toBe(c);
      expect(pb.Channel[channelToPb(c)]).toBe(`CHANNEL_${c}`);
    }
  });

  it('answers undefined for UNSPECIFIED and unknown wire values', () => {
    expect(orderStatusFromPb(pb.OrderStatus.ORDER_STATUS_UNSPECIFIED)).toBeUndefined();
    expect(orderStatusFromPb(pb.OrderStatus.UNRECOGNIZED)).toBeUndefined();
    expect(orderStatusFromPb(42 as pb.OrderStatus)).toBeUndefined();
    expect(channelFromPb(pb.Channel.CHANNEL_UNSPECIFIED)).toBeUndefined();
    expect(channelFromPb(pb.Channel.UNRECOGNIZED)).toBeUndefined();
  });
});

describe('ordersEventEncoder', () => {
  it('keys by order id, types by message name and carries the whole order (and the event fields)', () => {
    const state = orderState();
    const [refunded, failed] = ordersEventEncoder('t.o2o.orders.v1')([
      {
        event: { type: 'OrderRefunded', returnId: 'r2', amount: { currency: 'CNY', amountMinor: 1250 } },
        order: state,
      },
      { event: { type: 'OrderDeliveryFailed', groupId: 'g1', reason: 'nobody home' }, order: state },
    ]);
    expect(refunded).toMatchObject({
      topic: 't.o2o.orders.v1',
      key: 'ord-1',
      subject: 'ord-1',
      type: 'o2o.orders.v1.OrderRefunded',
      source: ORDERS_SOURCE,
      time: later,
    });
    expect(events.OrderRefunded.decode(refunded!.payload)).toEqual({
      order: orderToPb(state),
      returnId: 'r2',
      amount: { currencyCode: 'CNY', amountMinor: '1250' },
    });
    expect(failed!.type).toBe('o2o.orders.v1.OrderDeliveryFailed');
    expect(events.OrderDeliveryFailed.decode(failed!.payload)).toEqual({
      order: orderToPb(state),
      groupId: 'g1',
      reason: 'nobody home',
    });
    expect(refunded!.id).not.toBe(failed!.id);
  });

  it('encodes OrderRerouted with both group ids and the reason; a re-routed group is GROUP_STATUS_REROUTED', () => {
    const base = orderState();
    const g1 = base.groups[0]!;
    const state = {
      ...base,
      groups: [
        { ...g1, status: 'REROUTED' as const, rerouteTo: 'g2' },
        { ...g1, id: 'g2', locationId: 'store-9', holdId: 'ord-1.g2', status: 'CONFIRMED' as const, replaces: 'g1' },
      ],
    };
    const [rerouted] = ordersEventEncoder('t.o2o.orders.v1')([
      {
        event: { type: 'OrderRerouted', fromGroupId: 'g1', toGroupId: 'g2', reason: 'not accepted in time' },
        order: state,
      },
    ]);
    expect(rerouted!.type).toBe('o2o.orders.v1.OrderRerouted');
    const decoded = events.OrderRerouted.decode(rerouted!.payload);
    expect(decoded).toEqual({
      order: orderToPb(state),
      fromGroupId: 'g1',
      toGroupId: 'g2',
      reason: 'not accepted in time',
    });
    expect(decoded.order?.groups.map((g) => [g.id, g.status, g.locationId])).toEqual([
      ['g1', pb.GroupStatus.GROUP_STATUS_REROUTED, g1.locationId],
      ['g2', pb.GroupStatus.GROUP_STATUS_CONFIRMED, 'store-9'],
    ]);
  });
});
