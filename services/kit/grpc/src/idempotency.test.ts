import { requestFingerprint } from './idempotency';

describe('requestFingerprint', () => {
  it('ignores key order and undefined fields, and counts dates by their instant', () => {
    const at = new Date('2026-11-22T10:00:00Z');
    expect(requestFingerprint({ a: 1, b: [1, { c: 'x', d: undefined }], at })).toBe(
      requestFingerprint({ at: new Date(at.getTime()), b: [1, { c: 'x' }], a: 1 }),
    );
  });

  it('differs when any value or the order of an array differs', () => {
    const base = requestFingerprint({ amount: 100, lines: ['a', 'b'] });
    expect(requestFingerprint({ amount: 101, lines: ['a', 'b'] })).not.toBe(base);
    expect(requestFingerprint({ amount: 100, lines: ['b', 'a'] })).not.toBe(base);
  });
});
