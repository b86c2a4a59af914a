// Handover codes: six digits derived from the secret, the fulfilment, the purpose and a nonce; and their QR payload.
import { newCodeNonce } from '../domain/fulfilment';
import { codeMatches, handoverCode, qrPayload, readQrPayload } from './handover-code';

const input = { fulfilmentId: 'o-1.g-1', purpose: 'pickup' as const, nonce: 'n-1' };

describe('handoverCode', () => {
  it('is six digits', () => {
    for (let i = 0; i < 200; i++) {
      expect(handoverCode('secret', { ...input, nonce: `n-${i}` })).toMatch(/^\d{6}$/);
    }
  });

  it('is the same for the same input', () => {
    expect(handoverCode('secret', input)).toBe(handoverCode('secret', { ...input }));
  });

  it('differs with the nonce, the purpose, the fulfilment and the secret', () => {
    const code = handoverCode('secret', input);
    expect(handoverCode('secret', { ...input, nonce: 'n-2' })).not.toBe(code);
    expect(handoverCode('secret', { ...input, purpose: 'delivery' })).not.toBe(code);
    expect(handoverCode('secret', { ...input, fulfilmentId: 'o-1.g-2' })).not.toBe(code);
    expect(handoverCode('other-secret', input)).not.toBe(code);
  });

  it('spreads over the code space (no obvious bias)', () => {
    const codes = new Set<string>();
    for (let i = 0; i < 1_000; i++) codes.add(handoverCode('secret', { ...input, nonce: `n-${i}` }));
    expect(codes.size).toBeGreaterThan(990);
  });
});

describe('newCodeNonce', () => {
  it('is fresh every time and URL-safe', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => newCodeNonce()));
    expect(nonces.size).toBe(100);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe('codeMatches', () => {
  it('matches only the same string', () => {
    expect(codeMatches('012345', '012345')).toBe(true);
    expect(codeMatches('012345', '012346')).toBe(false);
    expect(codeMatches('012345', '12345')).toBe(false);
    expect(codeMatches('012345', '0123456')).toBe(false);
    expect(codeMatches('012345', '')).toBe(false);
  });
});

describe('QR payload', () => {
  it('round-trips the fulfilment id and code, ids with colons included', () => {
    for (const fulfilmentId of ['o-1.g-1', 'ord:2026:1.g:2']) {
      const payload = qrPayload('pickup', fulfilmentId, '004711');
      expect(payload.startsWith('o2o:handover:v1:pickup:')).toBe(true);
      expect(readQrPayload(payload, 'pickup')).toEqual({ fulfilmentId, code: '004711' });
    }
  });

  it('is read only for its purpose', () => {
    expect(readQrPayload(qrPayload('delivery', 'o-1.g-1', '123456'), 'pickup')).toBeUndefined();
    expect(readQrPayload(qrPayload('delivery', 'o-1.g-1', '123456'), 'delivery')).toEqual({
      fulfilmentId: 'o-1.g-1',
      code: '123456',
    });
  });

  it.each([
    '',
    '123456',
    'o2o:handover:v1:pickup:',
    'o2o:handover:v1:pickup::123456',
    'o2o:handover:v1:pickup:123456',
    'o2o:handover:v1:pickup:o-1.g-1:12345',
    'o2o:handover:v1:pickup:o-1.g-1:1234567',
    'o2o:handover:v1:pickup:o-1.g-1:12a456',
    'o2o:handover:v1:pickup:o-1.g-1:',
    'o2o:handover:v2:pickup:o-1.g-1:123456',
    'O2O:HANDOVER:V1:PICKUP:o-1.g-1:123456',
    'https://example.com/o2o:handover:v1:pickup:o-1.g-1:123456',
  ])('refuses a malformed payload %j', (payload) => {
    expect(readQrPayload(payload, 'pickup')).toBeUndefined();
  });
});
