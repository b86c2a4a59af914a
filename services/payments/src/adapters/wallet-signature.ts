import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the Unix time (seconds) the callback was signed at. */
export const TIMESTAMP_HEADER = 'x-wallet-timestamp';
/** Header carrying `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. */
export const SIGNATURE_HEADER = 'x-wallet-signature';

/** The signature of a callback body at a time. */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers a provider sends with a signed callback. */
export function signedHeaders(secret: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signCallback(secret, timestamp, body) };
}

/** Why a callback is not to be trusted, or 'ok'. */
export type Verdict = 'ok' | 'missing' | 'stale' | 'forged';

/**
 * Checks a callback: the signature must match the raw body and timestamp (compared in constant time), and the
 * timestamp must be within `toleranceMs` of now, so a captured callback cannot be replayed later.
 */
export function verifyCallback(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: string,
  options: { now: Date; toleranceMs: number },
): Verdict {
  if (!headers.timestamp || !headers.signature) return 'missing';
  if (!/^\d{1,12}$/.test(headers.timestamp)) return 'forged';
  const timestamp = Number(headers.timestamp);
  const expected = Buffer.from(signCallback(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
  if (Math.abs(options.now.getTime() - timestamp * 1000) > options.toleranceMs) return 'stale';
  return 'ok';
}
