import { randomBytes } from 'node:crypto';
import { deriveKey, secretBox } from './secret-box';

describe('secret box', () => {
  const key = randomBytes(32);
  const box = secretBox(key);

  it('seals with AES-256-GCM and opens for the same subscription only', () => {
    const sealed = box.seal('whsec_abc', 'whs_1');
    expect(sealed).not.toContain('whsec_abc');
    expect(sealed.startsWith(`v1.${box.keyId}.`)).toBe(true);
    expect(box.open(sealed, 'whs_1')).toBe('whsec_abc');
    expect(box.seal('whsec_abc', 'whs_1')).not.toBe(sealed);
    expect(() => box.open(sealed, 'whs_2')).toThrow();
  });

  it('refuses a value sealed under another key, and an altered one', () => {
    const sealed = box.seal('whsec_abc', 'whs_1');
    expect(() => secretBox(randomBytes(32)).open(sealed, 'whs_1')).toThrow(/sealed under key/);
    const parts = sealed.split('.');
    parts[4] = Buffer.from('whsec_abd').toString('base64url');
    expect(() => box.open(parts.join('.'), 'whs_1')).toThrow();
  });

  it('takes 32 bytes in base64 as the key, and stretches anything else as a passphrase', () => {
    expect(deriveKey(key.toString('base64')).equals(key)).toBe(true);
    expect(deriveKey(key.toString('base64url')).equals(key)).toBe(true);
    const derived = deriveKey('a passphrase of some length');
    expect(derived).toHaveLength(32);
    expect(deriveKey('a passphrase of some length').equals(derived)).toBe(true);
    expect(() => deriveKey('short')).toThrow(/at least 16/);
  });
});
