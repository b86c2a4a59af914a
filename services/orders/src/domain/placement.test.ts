import { OrderError, type Violation } from './errors';
import { MAX_LINE_QUANTITY, MAX_LINES, validatePlacement } from './placement';
import type { PlacementInput } from './types';

const VISA = '4242424242424242';
const delivery = {
  type: 'HOME_DELIVERY' as const,
  delivery: {
    point: { latitude: 31.23, longitude: 121.47 },
    recipientName: 'Li Wei',
    recipientPhone: '+8613800000000',
  },
};

/** A valid WEB order paid by card and delivered home; each test breaks one thing. */
function web(overrides: Partial<PlacementInput> = {}): PlacementInput {
  return {
    requestId: 'req-1',
    channel: 'WEB',
    customerId: 'cust-1',
    lines: [
      { skuCode: 'SKU-1', quantity: 2 },
      { skuCode: 'SKU-2', quantity: 1 },
    ],
    currency: 'CNY',
    fulfilment: delivery,
    payment: { method: 'CARD', cardNumber: VISA },
    ...overrides,
  };
}

/** A valid till sale: no customer, store and associate, carried out, paid cash. */
function pos(overrides: Partial<PlacementInput> = {}): PlacementInput {
  return {
    requestId: 'till-1',
    channel: 'STORE_POS',
    storeId: 'store-1',
    associateId: 'assoc-1',
    lines: [{ skuCode: 'SKU-1', quantity: 1 }],
    currency: 'CNY',
    fulfilment: { type: 'IN_STORE_CARRY_OUT' },
    payment: { method: 'CASH' },
    ...overrides,
  };
}

function violationsOf(input: PlacementInput): Violation[] {
  try {
    validatePlacement(input);
  } catch (error) {
    if (error instanceof OrderError) {
      expect(error.kind).toBe('invalid-argument');
      return [...error.violations];
    }
    throw error;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

const fieldsOf = (input: PlacementInput) => violationsOf(input).map((v) => v.field);

describe('validatePlacement: valid requests on every channel', () => {
  it('WEB, card, home delivery: keeps the card number for the saga and its last four digits for the order', () => {
    const p = validatePlacement(web());
    expect(p).toEqual({
      requestId: 'req-1',
      channel: 'WEB',
      customerId: 'cust-1',
      lines: [
        { skuCode: 'SKU-1', quantity: 2 },
        { skuCode: 'SKU-2', quantity: 1 },
      ],
      currency: 'CNY',
      fulfilment: delivery,
      payment: { method: 'CARD', cardLast4: '4242' },
      cardNumber: VISA,
    });
  });

  it('APP, wallet QR, pick-up in store', () => {
    const p = validatePlacement(
      web({
        channel: 'APP',
        fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-9' },
        payment: { method: 'WALLET_QR', walletChannel: 'ALIPAY' },
      }),
    );
    expect(p.fulfilment).toEqual({ type: 'STORE_PICKUP', pickupLocationId: 'store-9' });
    expect(p.payment).toEqual({ method: 'WALLET_QR', walletChannel: 'ALIPAY' });
    expect(p.cardNumber).toBeUndefined();
  });

  it('MINI_PROGRAM, WeChat Pay, ship from store with an address', () => {
    const address = {
      lines: ['1 Nanjing Rd'],
      district: 'Huangpu',
      city: 'Shanghai',
      region: 'SH',
      postalCode: '200000',
      countryCode: 'CN',
    };
    const p = validatePlacement(
      web({
        channel: 'MINI_PROGRAM',
        fulfilment: { type: 'SHIP_FROM_STORE', delivery: { ...delivery.delivery, address } },
        payment: { method: 'WALLET_QR', walletChannel: 'WECHAT_PAY' },
      }),
    );
    expect(p.fulfilment.type).toBe('SHIP_FROM_STORE');
    expect(p.fulfilment.delivery?.address).toEqual(address);
  });

  it('STORE_POS without a customer: carry-out paid in cash, or at the terminal', () => {
    const cash = validatePlacement(pos());
    expect(cash).toMatchObject({ channel: 'STORE_POS', storeId: 'store-1', associateId: 'assoc-1' });
    expect(cash.customerId).toBeUndefined();
    const terminal = validatePlacement(pos({ payment: { method: 'STORE_TERMINAL', terminalId: 'T-7' } }));
    expect(terminal.payment).toEqual({ method: 'STORE_TERMINAL', terminalId: 'T-7' });
    expect(validatePlacement(pos({ payment: { method: 'CARD', cardNumber: VISA } })).cardNumber).toBe(VISA);
    expect(validatePlacement(pos({ customerId: 'member-1' })).customerId).toBe('member-1');
  });

  it('STORE_KIOSK: a customer and the store of sale; the associate is optional', () => {
    const p = validatePlacement(web({ channel: 'STORE_KIOSK', storeId: 'store-1' }));
    expect(p).toMatchObject({ channel: 'STORE_KIOSK', storeId: 'store-1', customerId: 'cust-1' });
    expect(validatePlacement(web({ channel: 'STORE_KIOSK', storeId: 'store-1', associateId: 'a-1' })).associateId).toBe(
      'a-1',
    );
  });

  it('MARKETPLACE with the partner reference', () => {
    const p = validatePlacement(
      web({ channel: 'MARKETPLACE', marketplace: { partnerId: 'tmall', externalOrderId: 'TM-0001' } }),
    );
    expect(p.marketplace).toEqual({ partnerId: 'tmall', externalOrderId: 'TM-0001' });
  });

  it('accepts the limits themselves: 100 lines, 999 units, 128-character ids', () => {
    const lines = Array.from({ length: MAX_LINES }, (_, i) => ({ skuCode: `S-${i}`, quantity: MAX_LINE_QUANTITY }));
    expect(validatePlacement(web({ lines, requestId: 'r'.repeat(128) })).lines).toHaveLength(100);
  });
});

describe('validatePlacement: every field at fault is named', () => {
  it('request_id is required and must be a well-formed id', () => {
    expect(fieldsOf(web({ requestId: '' }))).toEqual(['request_id']);
    expect(fieldsOf(web({ requestId: ' spaced' }))).toEqual(['request_id']);
    expect(fieldsOf(web({ requestId: 'r'.repeat(129) }))).toEqual(['request_id']);
  });

  it('channel is required', () => {
    const { channel: _channel, ...input } = web();
    expect(fieldsOf(input)).toEqual(['channel']);
  });

  it('customer_id is required on every channel but STORE_POS', () => {
    for (const channel of ['WEB', 'APP', 'MINI_PROGRAM'] as const) {
      expect(fieldsOf(web({ channel, customerId: '' }))).toEqual(['customer_id']);
    }
    expect(fieldsOf(web({ channel: 'STORE_KIOSK', storeId: 's-1', customerId: undefined }))).toEqual(['customer_id']);
    expect(
      fieldsOf(web({ channel: 'MARKETPLACE', marketplace: { partnerId: 'p', externalOrderId: 'e' }, customerId: '' })),
    ).toEqual(['customer_id']);
    expect(fieldsOf(web({ customerId: 'bad id' }))).toEqual(['customer_id']);
    expect(() => validatePlacement(pos())).not.toThrow();
  });

  it('store_id is required at a store and refused elsewhere; associate_id is required at the till', () => {
    expect(fieldsOf(pos({ storeId: undefined }))).toEqual(['store_id']);
    expect(fieldsOf(pos({ associateId: '' }))).toEqual(['associate_id']);
    expect(fieldsOf(pos({ storeId: undefined, associateId: undefined }))).toEqual(['store_id', 'associate_id']);
    expect(fieldsOf(web({ channel: 'STORE_KIOSK' }))).toEqual(['store_id']);
    expect(fieldsOf(web({ storeId: 'store-1' }))).toEqual(['store_id']);
  });

  it('marketplace references are required for MARKETPLACE and refused on other channels', () => {
    expect(fieldsOf(web({ channel: 'MARKETPLACE' }))).toEqual([
      'marketplace.partner_id',
      'marketplace.external_order_id',
    ]);
    expect(fieldsOf(web({ channel: 'MARKETPLACE', marketplace: { partnerId: 'tmall', externalOrderId: '' } }))).toEqual(
      ['marketplace.external_order_id'],
    );
    expect(fieldsOf(web({ marketplace: { partnerId: 'tmall', externalOrderId: 'TM-1' } }))).toEqual(['marketplace']);
  });

  it('lines: at least one, at most 100, each SKU once, well-formed', () => {
    expect(fieldsOf(web({ lines: [] }))).toEqual(['lines']);
    const many = Array.from({ length: MAX_LINES + 1 }, (_, i) => ({ skuCode: `S-${i}`, quantity: 1 }));
    expect(violationsOf(web({ lines: many }))).toEqual([
      { field: 'lines', description: 'must have at most 100 lines' },
    ]);
    expect(
      fieldsOf(
        web({
          lines: [
            { skuCode: 'A', quantity: 1 },
            { skuCode: 'B', quantity: 1 },
            { skuCode: 'A', quantity: 2 },
          ],
        }),
      ),
    ).toEqual(['lines[2].sku_code']);
    expect(fieldsOf(web({ lines: [{ skuCode: 'has space', quantity: 1 }] }))).toEqual(['lines[0].sku_code']);
    expect(fieldsOf(web({ lines: [{ skuCode: '', quantity: 1 }] }))).toEqual(['lines[0].sku_code']);
  });

  it.each([0, -1, 1000, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('lines[i].quantity %p is refused', (quantity) => {
    expect(
      fieldsOf(
        web({
          lines: [
            { skuCode: 'A', quantity: 1 },
            { skuCode: 'B', quantity },
          ],
        }),
      ),
    ).toEqual(['lines[1].quantity']);
  });

  it('currency must be an upper-case ISO 4217 code', () => {
    for (const currency of ['', 'cny', 'CN', 'CNYY', 'C1Y']) expect(fieldsOf(web({ currency }))).toEqual(['currency']);
  });

  it('fulfilment: type required; delivery needs a point in range; pick-up needs a location', () => {
    expect(fieldsOf(web({ fulfilment: undefined }))).toEqual(['fulfilment.type']);
    expect(fieldsOf(web({ fulfilment: {} }))).toEqual(['fulfilment.type']);
    expect(fieldsOf(web({ fulfilment: { type: 'HOME_DELIVERY' } }))).toEqual(['fulfilment.delivery.point']);
    expect(
      fieldsOf(web({ fulfilment: { type: 'SHIP_FROM_STORE', delivery: { recipientName: '', recipientPhone: '' } } })),
    ).toEqual(['fulfilment.delivery.point']);
    const at = (latitude: number, longitude: number) =>
      web({
        fulfilment: { type: 'HOME_DELIVERY', delivery: { ...delivery.delivery, point: { latitude, longitude } } },
      });
    expect(fieldsOf(at(90.5, 0))).toEqual(['fulfilment.delivery.point.latitude']);
    expect(fieldsOf(at(0, -180.1))).toEqual(['fulfilment.delivery.point.longitude']);
    expect(fieldsOf(at(Number.NaN, Number.NaN))).toEqual([
      'fulfilment.delivery.point.latitude',
      'fulfilment.delivery.point.longitude',
    ]);
    expect(() => validatePlacement(at(-90, 180))).not.toThrow();
    expect(
      fieldsOf(
        web({
          fulfilment: {
            type: 'HOME_DELIVERY',
            delivery: { ...delivery.delivery, recipientName: 'n'.repeat(201), recipientPhone: '1'.repeat(41) },
          },
        }),
      ),
    ).toEqual(['fulfilment.delivery.recipient_name', 'fulfilment.delivery.recipient_phone']);
    expect(fieldsOf(web({ fulfilment: { type: 'STORE_PICKUP' } }))).toEqual(['fulfilment.pickup_location_id']);
    expect(fieldsOf(web({ fulfilment: { type: 'STORE_PICKUP', pickupLocationId: '-bad' } }))).toEqual([
      'fulfilment.pickup_location_id',
    ]);
  });

  it('IN_STORE_CARRY_OUT is only for STORE_POS', () => {
    expect(fieldsOf(web({ fulfilment: { type: 'IN_STORE_CARRY_OUT' } }))).toEqual(['fulfilment.type']);
    expect(
      fieldsOf(web({ channel: 'STORE_KIOSK', storeId: 's-1', fulfilment: { type: 'IN_STORE_CARRY_OUT' } })),
    ).toEqual(['fulfilment.type']);
  });

  it('payment.method is required', () => {
    expect(fieldsOf(web({ payment: undefined }))).toEqual(['payment.method']);
    expect(fieldsOf(web({ payment: {} }))).toEqual(['payment.method']);
  });

  it('CARD needs 12..19 digits passing the Luhn check', () => {
    const card = (cardNumber?: string) => web({ payment: { method: 'CARD', cardNumber } });
    expect(() => validatePlacement(card('5555555555554444'))).not.toThrow();
    expect(() => validatePlacement(card('378282246310005'))).not.toThrow();
    for (const number of [undefined, '', '4242424242424241', '4242 4242 4242 4242', '42424242424', '1'.repeat(20)]) {
      expect(fieldsOf(card(number))).toEqual(['payment.card.number']);
    }
  });

  it('WALLET_QR needs a wallet channel and is not taken for a carry-out', () => {
    expect(fieldsOf(web({ payment: { method: 'WALLET_QR' } }))).toEqual(['payment.wallet_channel']);
    expect(violationsOf(pos({ payment: { method: 'WALLET_QR', walletChannel: 'ALIPAY' } }))).toEqual([
      { field: 'payment.method', description: 'a carry-out sale is paid at the till (CASH, STORE_TERMINAL or CARD)' },
    ]);
    expect(() =>
      validatePlacement(
        pos({
          fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-2' },
          payment: { method: 'WALLET_QR', walletChannel: 'WECHAT_PAY' },
        }),
      ),
    ).not.toThrow();
  });

  it('CASH and STORE_TERMINAL only at a STORE_POS till; the terminal needs its id', () => {
    expect(fieldsOf(web({ payment: { method: 'CASH' } }))).toEqual(['payment.method']);
    expect(fieldsOf(web({ channel: 'STORE_KIOSK', storeId: 's-1', payment: { method: 'CASH' } }))).toEqual([
      'payment.method',
    ]);
    expect(fieldsOf(web({ payment: { method: 'STORE_TERMINAL', terminalId: 'T-1' } }))).toEqual(['payment.method']);
    expect(fieldsOf(pos({ payment: { method: 'STORE_TERMINAL' } }))).toEqual(['payment.terminal_id']);
  });

  it('names every violation at once, and the message counts them', () => {
    let caught: unknown;
    try {
      validatePlacement({
        requestId: '',
        channel: 'WEB',
        lines: [{ skuCode: 'A', quantity: 0 }],
        currency: 'x',
        payment: { method: 'CASH' },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OrderError);
    const error = caught as OrderError;
    expect(error.violations.map((v) => v.field)).toEqual([
      'request_id',
      'customer_id',
      'lines[0].quantity',
      'currency',
      'fulfilment.type',
      'payment.method',
    ]);
    expect(error.message).toBe('Invalid request: request_id: is required (and 5 more)');
  });
});
