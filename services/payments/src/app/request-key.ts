import { requestFingerprint } from '@o2o/kit-grpc';
import { PaymentError } from '../domain/errors';
import type { Operation } from '../domain/payment';

const MAX_KEY = 128;

/** Checks the client's idempotency key and hashes the request's content (object key order does not matter). */
export function operationKey(key: string, content: unknown): Operation {
  if (key.length === 0 || key.length > MAX_KEY) {
    throw PaymentError.invalid([{ field: 'idempotency_key', description: `must be 1..${MAX_KEY} characters` }]);
  }
  return { key, hash: requestFingerprint(content) };
}

/** The error for a key used again with different content. */
export function keyReused(key: string): PaymentError {
  return PaymentError.invalid([
    { field: 'idempotency_key', description: `"${key}" was already used for a different request` },
  ]);
}

const PAYMENT_ID = /^pay_[0-9a-f]{24}$/;

/** Throws INVALID_ARGUMENT unless `id` looks like a payment id. */
export function checkPaymentId(id: string): void {
  if (!PAYMENT_ID.test(id)) {
    throw PaymentError.invalid([{ field: 'payment_id', description: 'must be a payment id (pay_ and 24 hex digits)' }]);
  }
}
