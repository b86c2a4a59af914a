import type { Violation } from './errors';
import { type Money, positiveAmountProblems } from './money';
import type { PaymentAttribution, PaymentMethod, WalletChannel } from './payment';

/** What AuthorizePayment asks for, after mapping from the wire. */
export interface AuthorizeInput {
  orderId: string;
  amount: Money;
  method: PaymentMethod | undefined;
  card?: { number: string };
  wallet?: { channel: WalletChannel | undefined };
  store?: { storeId: string; terminalId: string };
  /** WALLET_QR only: when the unpaid QR expires. */
  expiresAt?: Date;
  /** Whose order it is (kept with the payment; not part of the idempotency check). */
  attribution?: PaymentAttribution;
}

/** At most this many fulfilling locations in an attribution. */
export const MAX_ATTRIBUTION_LOCATIONS = 200;

/** Bounds on a wallet payment's deadline, from the time of the request. */
export const WALLET_DEADLINE = { minMs: 1000, maxMs: 24 * 60 * 60 * 1000 } as const;

const ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Every problem with an AuthorizePayment request's content, as API field paths. The deadline's distance from now is
 * checked separately (deadlineProblems), after the replay check: a repeat sent later still gets the first answer.
 */
export function validateAuthorizeInput(input: AuthorizeInput): Violation[] {
  const v: Violation[] = [];
  if (!ID.test(input.orderId)) v.push({ field: 'order_id', description: 'must be 1..64 of A-Z a-z 0-9 . _ : -' });
  v.push(...positiveAmountProblems(input.amount, 'amount'));
  const method = input.method;
  if (!method) {
    v.push({ field: 'method', description: 'must be CARD, WALLET_QR, CASH or STORE_TERMINAL' });
    return v;
  }
  const unexpected = (field: 'card' | 'wallet' | 'store') => {
    if (input[field]) v.push({ field, description: `must not be set for ${method}` });
  };
  switch (method) {
    case 'CARD':
      unexpected('wallet');
      unexpected('store');
      if (!input.card) v.push({ field: 'card', description: 'is required for CARD' });
      else if (!isCardNumber(input.card.number)) {
        v.push({ field: 'card.number', description: 'must be 12..19 digits passing the Luhn check' });
      }
      break;
    case 'WALLET_QR':
      unexpected('card');
      unexpected('store');
      if (!input.wallet?.channel) {
        v.push({ field: 'wallet.channel', description: 'must be WALLET_CHANNEL_ALIPAY or WALLET_CHANNEL_WECHAT_PAY' });
      }
      break;
    case 'CASH':
    case 'STORE_TERMINAL':
      unexpected('card');
      unexpected('wallet');
      if (method === 'STORE_TERMINAL' && !input.store) v.push({ field: 'store', description: 'is required' });
      if (input.store) {
        if (!ID.test(input.store.storeId)) v.push({ field: 'store.store_id', description: 'must be 1..64 characters' });
        if (input.store.terminalId.length > 64) {
          v.push({ field: 'store.terminal_id', description: 'must be at most 64 characters' });
        }
      }
      break;
  }
  if (method !== 'WALLET_QR' && input.expiresAt) {
    v.push({ field: 'expire_time', description: 'applies to WALLET_QR payments only' });
  }
  if (input.attribution) v.push(...attributionProblems(input.attribution));
  return v;
}

function attributionProblems(a: PaymentAttribution): Violation[] {
  const v: Violation[] = [];
  const ids = { customer_id: a.customerId, store_id: a.storeId, partner_id: a.partnerId };
  for (const [field, id] of Object.entries(ids)) {
    if (id.length > 128) v.push({ field: `attribution.${field}`, description: 'must be at most 128 characters' });
  }
  if (a.locationIds.length > MAX_ATTRIBUTION_LOCATIONS) {
    v.push({ field: 'attribution.location_ids', description: `must have at most ${MAX_ATTRIBUTION_LOCATIONS} ids` });
  }
  a.locationIds.forEach((id, i) => {
    if (id.length === 0 || id.length > 128) {
      v.push({ field: `attribution.location_ids[${i}]`, description: 'must be 1..128 characters' });
    }
  });
  return v;
}

/** A wallet deadline that is not 1 s to 24 h ahead of `now`, as a violation. */
export function deadlineProblems(input: AuthorizeInput, now: Date): Violation[] {
  if (input.method !== 'WALLET_QR' || !input.expiresAt) return [];
  const ahead = input.expiresAt.getTime() - now.getTime();
  return ahead >= WALLET_DEADLINE.minMs && ahead <= WALLET_DEADLINE.maxMs
    ? []
    : [{ field: 'expire_time', description: 'must be 1 second to 24 hours ahead' }];
}

/** 12..19 digits with a valid Luhn check digit. */
export function isCardNumber(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) return false;
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
