// Handover codes: the six digits a shopper shows at the store (pick-up) or gives the courier (proof of delivery).
// A code is derived from the service's secret, the fulfilment id and a random nonce stored with the fulfilment, so
// the database never holds a usable code, and the shopper's app can ask for it again at any time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CodePurpose } from '../domain/types';

export type { CodePurpose };

const QR_PREFIX = 'o2o:handover:v1';

/** The six-digit code for a fulfilment, purpose and nonce. */
export function handoverCode(
  secret: string,
  input: { fulfilmentId: string; purpose: CodePurpose; nonce: string },
): string {
  const mac = createHmac('sha256', secret).update(`${input.purpose}\n${input.fulfilmentId}\n${input.nonce}`).digest();
  return String(mac.readUInt32BE(0) % 1_000_000).padStart(6, '0');
}

/** Whether `given` is the code, compared in constant time. */
export function codeMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the shopper's app shows as a QR code. */
export function qrPayload(purpose: CodePurpose, fulfilmentId: string, code: string): string {
  return `${QR_PREFIX}:${purpose}:${fulfilmentId}:${code}`;
}

/** The fulfilment id and code in a scanned QR payload, or undefined when it is not one of ours. */
export function readQrPayload(
  payload: string,
  purpose: CodePurpose,
): { fulfilmentId: string; code: string } | undefined {
  const head = `${QR_PREFIX}:${purpose}:`;
  if (!payload.startsWith(head)) return undefined;
  const rest = payload.slice(head.length);
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const code = rest.slice(colon + 1);
  if (!/^\d{6}$/.test(code)) return undefined;
  return { fulfilmentId: rest.slice(0, colon), code };
}
