// Signing secrets at rest: AES-256-GCM under the gateway's key (WEBHOOK_SECRET_KEY), each bound to its subscription
// (the subscription id is the additional authenticated data, so a sealed secret copied into another subscription
// does not open). Sealed form: `v1.<key id>.<iv>.<tag>.<ciphertext>`, base64url parts.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';

/** Seals and opens secrets under one key. */
export interface SecretBox {
  /** Short fingerprint of the key (not secret): tells which key sealed a value. */
  readonly keyId: string;
  seal(plaintext: string, boundTo: string): string;
  /** Throws when the value was sealed under another key, for another subscription, or altered. */
  open(sealed: string, boundTo: string): string;
}

/** Salt of the passphrase KDF: fixed, so every replica derives the same key from the same passphrase. */
const KDF_SALT = 'o2o-gateway/webhook-secrets/v1';

/**
 * The 32-byte key from WEBHOOK_SECRET_KEY: a value that is base64 (or base64url) of exactly 32 bytes is the key
 * itself; anything else is a passphrase (at least 16 characters) stretched with scrypt (N=2^14, r=8, p=1).
 */
export function deriveKey(configured: string): Buffer {
  const raw = /^[A-Za-z0-9+/_-]{43}=?$/.test(configured) ? Buffer.from(configured, 'base64') : undefined;
  if (raw?.length === 32) return raw;
  if (configured.length < 16) {
    throw new Error('WEBHOOK_SECRET_KEY must be 32 bytes in base64, or a passphrase of at least 16 characters');
  }
  return scryptSync(configured, KDF_SALT, 32, { N: 16_384, r: 8, p: 1 });
}

/** A box over a 32-byte key. */
export function secretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error(`An AES-256 key has 32 bytes, not ${key.length}`);
  const keyId = createHash('sha256').update('o2o-webhook-key-id').update(key).digest('base64url').slice(0, 8);
  return {
    keyId,
    seal(plaintext, boundTo) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(boundTo, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', keyId, iv, cipher.getAuthTag(), data]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed, boundTo) {
      const [version, sealedKeyId, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || iv === undefined || tag === undefined || data === undefined) {
        throw new Error('Cannot open a webhook secret: unknown sealed format');
      }
      if (sealedKeyId !== keyId) {
        throw new Error(`Cannot open a webhook secret sealed under key "${sealedKeyId}": the gateway has "${keyId}"`);
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
        .setAAD(Buffer.from(boundTo, 'utf8'))
        .setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
