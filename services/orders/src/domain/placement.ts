// PlaceOrder's input rules: every field at fault is named, nothing is written for a request that breaks one.
import { OrderError, type Violation } from './errors';
import type { Channel, FulfilmentRequest, ItemQuantity, MarketplaceRef, PaymentRequest, PlacementInput } from './types';

/** At most this many lines per order. */
export const MAX_LINES = 100;
/** At most this many units of one SKU per order. */
export const MAX_LINE_QUANTITY = 999;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const SKU = /^[A-Za-z0-9._-]{1,64}$/;
const CURRENCY = /^[A-Z]{3}$/;
const STORE_CHANNELS: ReadonlySet<Channel> = new Set(['STORE_POS', 'STORE_KIOSK']);

/** A PlaceOrder request that passed every rule. */
export interface Placement {
  requestId: string;
  channel: Channel;
  customerId?: string;
  storeId?: string;
  associateId?: string;
  marketplace?: MarketplaceRef;
  lines: ItemQuantity[];
  currency: string;
  fulfilment: FulfilmentRequest;
  payment: PaymentRequest;
  /** Kept in memory for the saga's authorisation only. */
  cardNumber?: string;
}

/** Checks a PlaceOrder request; throws INVALID_ARGUMENT naming every field at fault. */
export function validatePlacement(input: PlacementInput): Placement {
  const v: Violation[] = [];
  const bad = (field: string, description: string) => v.push({ field, description });
  const id = (field: string, value: string | undefined, required: boolean) => {
    if (value === undefined || value === '') {
      if (required) bad(field, 'is required');
    } else if (!ID.test(value)) bad(field, 'must be 1..128 of A-Z a-z 0-9 . _ : @ - (starting with a letter or digit)');
  };

  id('request_id', input.requestId, true);
  const channel = input.channel;
  if (!channel) bad('channel', 'is required');
  const atStore = channel !== undefined && STORE_CHANNELS.has(channel);
  id('customer_id', input.customerId, channel !== undefined && channel !== 'STORE_POS');
  id('store_id', input.storeId, atStore);
  id('associate_id', input.associateId, channel === 'STORE_POS');
  if (input.storeId && channel && !atStore)
    bad('store_id', 'only STORE_POS and STORE_KIOSK orders have a store of sale');
  if (channel === 'MARKETPLACE') {
    id('marketplace.partner_id', input.marketplace?.partnerId, true);
    id('marketplace.external_order_id', input.marketplace?.externalOrderId, true);
  } else if (input.marketplace) bad('marketplace', 'only MARKETPLACE orders carry a partner reference');

  const lines = checkLines(input.lines, bad);
  if (!CURRENCY.test(input.currency)) bad('currency', 'must be an ISO 4217 code such as "CNY"');
  const fulfilment = checkFulfilment(input, bad);
  const payment = checkPayment(input, bad);
  if (v.length > 0) throw OrderError.invalid(v);

  const placement: Placement = {
    requestId: input.requestId,
    channel: channel!,
    lines,
    currency: input.currency,
    fulfilment: fulfilment!,
    payment: payment!,
  };
  if (input.customerId) placement.customerId = input.customerId;
  if (input.storeId) placement.storeId = input.storeId;
  if (input.associateId) placement.associateId = input.associateId;
  if (channel === 'MARKETPLACE' && input.marketplace) placement.marketplace = { ...input.marketplace };
  if (input.payment?.method === 'CARD') placement.cardNumber = input.payment.cardNumber!;
  return placement;
}

function checkLines(lines: PlacementInput['lines'], bad: (f: string, d: string) => void): ItemQuantity[] {
  if (lines.length === 0) bad('lines', 'must have at least one line');
  if (lines.length > MAX_LINES) {
    bad('lines', `must have at most ${MAX_LINES} lines`);
    return [];
  }
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    if (!SKU.test(line.skuCode)) bad(`lines[${i}].sku_code`, 'must be 1..64 of A-Z a-z 0-9 . _ -');
    else if (seen.has(line.skuCode)) bad(`lines[${i}].sku_code`, `"${line.skuCode}" appears on more than one line`);
    seen.add(line.skuCode);
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_LINE_QUANTITY) {
      bad(`lines[${i}].quantity`, `must be a whole number from 1 to ${MAX_LINE_QUANTITY}`);
    }
  });
  return lines.map((l) => ({ skuCode: l.skuCode, quantity: l.quantity }));
}

function checkFulfilment(input: PlacementInput, bad: (f: string, d: string) => void): FulfilmentRequest | undefined {
  const f = input.fulfilment;
  if (!f?.type) {
    bad('fulfilment.type', 'is required');
    return undefined;
  }
  switch (f.type) {
    case 'HOME_DELIVERY':
    case 'SHIP_FROM_STORE': {
      const point = f.delivery?.point;
      if (!point) bad('fulfilment.delivery.point', 'is required for delivery');
      else {
        if (!(Math.abs(point.latitude) <= 90)) bad('fulfilment.delivery.point.latitude', 'must be within -90..90');
        if (!(Math.abs(point.longitude) <= 180)) bad('fulfilment.delivery.point.longitude', 'must be within -180..180');
      }
      const d = f.delivery;
      if (d && d.recipientName.length > 200)
        bad('fulfilment.delivery.recipient_name', 'must be at most 200 characters');
      if (d && d.recipientPhone.length > 40)
        bad('fulfilment.delivery.recipient_phone', 'must be at most 40 characters');
      if (!point || !d) return undefined;
      const delivery: FulfilmentRequest['delivery'] = {
        point: { latitude: point.latitude, longitude: point.longitude },
        recipientName: d.recipientName,
        recipientPhone: d.recipientPhone,
      };
      if (d.address) delivery.address = d.address;
      return { type: f.type, delivery };
    }
    case 'STORE_PICKUP':
      if (!f.pickupLocationId) bad('fulfilment.pickup_location_id', 'is required for a pick-up in store');
      else if (!ID.test(f.pickupLocationId)) bad('fulfilment.pickup_location_id', 'is not a valid location id');
      return { type: f.type, pickupLocationId: f.pickupLocationId ?? '' };
    case 'IN_STORE_CARRY_OUT':
      if (input.channel !== 'STORE_POS') bad('fulfilment.type', 'IN_STORE_CARRY_OUT is only for STORE_POS sales');
      return { type: f.type };
  }
}

function checkPayment(input: PlacementInput, bad: (f: string, d: string) => void): PaymentRequest | undefined {
  const p = input.payment;
  if (!p?.method) {
    bad('payment.method', 'is required');
    return undefined;
  }
  const result: PaymentRequest = { method: p.method };
  switch (p.method) {
    case 'CARD': {
      const number = p.cardNumber ?? '';
      if (!/^\d{12,19}$/.test(number) || !luhn(number)) bad('payment.card.number', 'must be a valid card number');
      else result.cardLast4 = number.slice(-4);
      break;
    }
    case 'WALLET_QR':
      if (!p.walletChannel) bad('payment.wallet_channel', 'is required for WALLET_QR');
      else result.walletChannel = p.walletChannel;
      if (input.fulfilment?.type === 'IN_STORE_CARRY_OUT') {
        bad('payment.method', 'a carry-out sale is paid at the till (CASH, STORE_TERMINAL or CARD)');
      }
      break;
    case 'CASH':
    case 'STORE_TERMINAL':
      if (input.channel !== 'STORE_POS') bad('payment.method', `${p.method} is only taken at a STORE_POS till`);
      if (p.method === 'STORE_TERMINAL') {
        if (!p.terminalId) bad('payment.terminal_id', 'is required for STORE_TERMINAL');
        else result.terminalId = p.terminalId;
      }
      break;
  }
  return result;
}

/** The Luhn check digit test card numbers pass. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
