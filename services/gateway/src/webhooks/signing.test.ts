import { createHmac } from 'node:crypto';
import { generateSecret, isSecret, signatureHeader, signatureOf, verifyWebhookSignature } from './signing';

const body = JSON.stringify({ specversion: '1.0', id: 'e-1', data: { a: 1 } });
const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const t = Math.floor(now / 1000);

describe('secrets', () => {
  it('are whsec_ and 32 random bytes in base64url, each different', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(6), 'base64url')).toHaveLength(32);
    expect(isSecret(a)).toBe(true);
    expect(generateSecret()).not.toBe(a);
  });
});

describe('signatures', () => {
  const secret = generateSecret();
  const other = generateSecret();

  it('are the hex HMAC-SHA256 of `${t}.${body}` under the secret string', () => {
    expect(signatureOf(secret, t, body)).toBe(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
    expect(signatureHeader([secret], t, body)).toBe(`t=${t},v1=${signatureOf(secret, t, body)}`);
  });

  it('verify with the secret, and with either secret when signed by both (rotation)', () => {
    const single = signatureHeader([secret], t, body);
    expect(verifyWebhookSignature({ secrets: [secret], header: single, body, now })).toEqual({
      ok: true,
      timestamp: t,
    });
    const both = signatureHeader([other, secret], t, body);
    expect(both.match(/v1=/g)).toHaveLength(2);
    expect(verifyWebhookSignature({ secrets: [secret], header: both, body, now }).ok).toBe(true);
    expect(verifyWebhookSignature({ secrets: [other], header: both, body: Buffer.from(body), now }).ok).toBe(true);
  });

  it('fail with another secret, a tampered body, or a stale or future timestamp', () => {
    const header = signatureHeader([secret], t, body);
    expect(verifyWebhookSignature({ secrets: [other], header, body, now })).toEqual({
      ok: false,
      reason: 'no-matching-signature',
    });
    expect(verifyWebhookSignature({ secrets: [secret], header, body: body.replace('1', '2'), now }).ok).toBe(false);
    expect(verifyWebhookSignature({ secrets: [secret], header, body, now: now + 301_000 })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(verifyWebhookSignature({ secrets: [secret], header, body, now: now - 301_000 }).ok).toBe(false);
    expect(verifyWebhookSignature({ secrets: [secret], header, body, now: now + 299_000 }).ok).toBe(true);
    expect(
      verifyWebhookSignature({ secrets: [secret], header, body, now: now + 61_000, toleranceSeconds: 60 }).ok,
    ).toBe(false);
    // A signature for another timestamp cannot be moved to a fresh one.
    const moved = header.replace(`t=${t}`, `t=${t + 100}`);
    expect(verifyWebhookSignature({ secrets: [secret], header: moved, body, now: now + 100_000 }).ok).toBe(false);
  });

  it('refuse malformed headers and ignore unknown schemes', () => {
    for (const header of [undefined, '', 'garbage', `t=${t}`, `v1=${'a'.repeat(64)}`, `t=x,v1=${'a'.repeat(64)}`]) {
      expect(verifyWebhookSignature({ secrets: [secret], header, body, now })).toEqual({
        ok: false,
        reason: 'malformed-header',
      });
    }
    const header = `${signatureHeader([secret], t, body)},v2=whatever`;
    expect(verifyWebhookSignature({ secrets: [secret], header, body, now }).ok).toBe(true);
  });

  it('cannot be made without a secret', () => {
    expect(() => signatureHeader([], t, body)).toThrow(/without a secret/);
  });
});
