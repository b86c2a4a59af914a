// Webhook secrets and signatures. Each delivery is signed with every currently valid secret of its subscription:
//   o2o-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>[,v1=<...>]
// The HMAC key is the whole secret string (`whsec_...`) as UTF-8. Receivers check the signature with any of their
// secrets and refuse a timestamp outside their tolerance, so a captured request cannot be replayed later.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The signature header. */
export const SIGNATURE_HEADER = 'o2o-signature';
/** The event id header (the CloudEvent id: the same on every retry and replay of an event). */
export const WEBHOOK_ID_HEADER = 'webhook-id';
/** The unix-seconds timestamp header (equal to the signature's `t`). */
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';

/** Receivers accept timestamps this far from their clock unless they choose otherwise (5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';
const SECRET_PATTERN = /^whsec_[A-Za-z0-9_-]{43}$/;
const MAX_HEADER = 4_096;

/** A new signing secret: `whsec_` + 32 random bytes, base64url. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** Whether a string has the shape of a secret this gateway issues. */
export function isSecret(value: string): boolean {
  return SECRET_PATTERN.test(value);
}

/** The hex HMAC-SHA256 of `${timestamp}.${body}` under a secret. */
export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The `o2o-signature` value: one `v1=` per secret, all over the same timestamp and body. */
export function signatureHeader(secrets: readonly string[], timestamp: number, body: string): string {
  if (secrets.length === 0) throw new Error('Cannot sign a webhook without a secret');
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${signatureOf(s, timestamp, body)}`)].join(',');
}

/** What {@link verifyWebhookSignature} decided. */
export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'malformed-header' | 'stale-timestamp' | 'no-matching-signature' };

/** Options for {@link verifyWebhookSignature}. */
export interface VerifyOptions {
  /** The receiver's secrets (during a rotation, the new and the old one). */
  secrets: readonly string[];
  /** The `o2o-signature` header as received. */
  header: string | undefined;
  /** The raw request body, exactly as received (before any JSON parsing). */
  body: string | Buffer;
  /** How far the timestamp may be from `now`, either way; default 300 s. */
  toleranceSeconds?: number;
  /** The receiver's clock (ms since the epoch); default Date.now(). */
  now?: number;
}

/**
 * Checks a delivery's signature, for receivers: the header must carry a timestamp within the tolerance and at least
 * one `v1` signature equal (compared in constant time) to the HMAC of `${t}.${body}` under one of the secrets.
 */
export function verifyWebhookSignature(options: VerifyOptions): VerifyResult {
  const { header, secrets } = options;
  if (!header || header.length > MAX_HEADER) return { ok: false, reason: 'malformed-header' };
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed-header' };
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return { ok: false, reason: 'malformed-header' };
      timestamp = Number(value);
    } else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (a later v2) are ignored, so receivers keep working while the gateway adds one.
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed-header' };
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - timestamp) > tolerance) return { ok: false, reason: 'stale-timestamp' };
  const body = typeof options.body === 'string' ? options.body : options.body.toString('utf8');
  for (const secret of secrets) {
    const expected = Buffer.from(signatureOf(secret, timestamp, body), 'hex');
    // Every candidate is compared, so the time taken does not tell which one matched.
    let matched = false;
    for (const candidate of signatures) matched = timingSafeEqual(expected, candidate) || matched;
    if (matched) return { ok: true, timestamp };
  }
  return { ok: false, reason: 'no-matching-signature' };
}
