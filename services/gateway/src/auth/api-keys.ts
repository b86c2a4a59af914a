// API keys in the gateway's database. A key is `o2o_<keyId>_<secret>`: the id finds the stored record by _id, and
// only the SHA-256 of the secret is stored, so a database dump yields no usable key.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Connection } from '@o2o/kit-mongo';
import type { Principal, Role } from '@o2o/kit-grpc';

export const API_KEYS_COLLECTION = 'api_keys';

const KEY_FORMAT = /^o2o_([A-Za-z0-9]{8,32})_([A-Za-z0-9_-]{16,128})$/;

/** A stored key as the admin API shows it (never with its secret). */
export interface ApiKeyRecord {
  id: string;
  principal: Principal;
  /** Requests a minute this key may make; 0 means the gateway's default. */
  rateLimitPerMinute: number;
  description: string;
  status: 'ACTIVE' | 'REVOKED';
  createTime: Date;
  revokeTime?: Date;
}

interface ApiKeyDocument {
  _id: string;
  hash: string;
  role: Role;
  subject: string;
  storeIds: string[];
  scopes: string[];
  rateLimitPerMinute: number;
  description: string;
  status: 'ACTIVE' | 'REVOKED';
  createTime: Date;
  revokeTime?: Date;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

const toRecord = (doc: ApiKeyDocument): ApiKeyRecord => ({
  id: doc._id,
  principal: { role: doc.role, subject: doc.subject, storeIds: doc.storeIds, scopes: doc.scopes },
  rateLimitPerMinute: doc.rateLimitPerMinute,
  description: doc.description,
  status: doc.status,
  createTime: doc.createTime,
  ...(doc.revokeTime ? { revokeTime: doc.revokeTime } : {}),
});

/** Splits a presented key; undefined when it is not shaped like one of ours. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const m = KEY_FORMAT.exec(key);
  return m?.[1] && m[2] ? { id: m[1], secret: m[2] } : undefined;
}

export interface ApiKeyStore {
  /** The key's record if the key is valid and active; cached for `cacheMs`, so a revocation takes that long. */
  verify(key: string): Promise<ApiKeyRecord | undefined>;
  create(input: {
    principal: Principal;
    rateLimitPerMinute: number;
    description: string;
    /** A fixed key (the bootstrap admin key from the configuration); generated otherwise. */
    key?: string;
  }): Promise<{ record: ApiKeyRecord; key: string }>;
  list(options: { after?: string; limit: number }): Promise<ApiKeyRecord[]>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  revoke(id: string, now: Date): Promise<ApiKeyRecord | undefined>;
}

export function mongoApiKeyStore(connection: Connection, options: { cacheMs: number }): ApiKeyStore {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const docs = db.collection<ApiKeyDocument>(API_KEYS_COLLECTION);
  const cache = new Map<string, { at: number; doc: ApiKeyDocument | null }>();

  const load = async (id: string): Promise<ApiKeyDocument | null> => {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < options.cacheMs) return hit.doc;
    const doc = await docs.findOne({ _id: id });
    if (cache.size > 10_000) cache.clear();
    cache.set(id, { at: Date.now(), doc });
    return doc;
  };

  return {
    async verify(key) {
      const parsed = parseApiKey(key);
      if (!parsed) return undefined;
      const doc = await load(parsed.id);
      if (!doc || doc.status !== 'ACTIVE') return undefined;
      const presented = sha256(parsed.secret);
      const stored = Buffer.from(doc.hash, 'hex');
      if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return undefined;
      return toRecord(doc);
    },
    async create(input) {
      const key =
        input.key ??
        `o2o_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}_${randomBytes(32).toString('base64url')}`;
      const parsed = parseApiKey(key);
      if (!parsed) throw new Error('malformed API key');
      const doc: ApiKeyDocument = {
        _id: parsed.id,
        hash: sha256(parsed.secret).toString('hex'),
        role: input.principal.role,
        subject: input.principal.subject,
        storeIds: [...input.principal.storeIds],
        scopes: [...input.principal.scopes],
        rateLimitPerMinute: input.rateLimitPerMinute,
        description: input.description,
        status: 'ACTIVE',
        createTime: new Date(),
      };
      if (input.key) {
        // The bootstrap key: written again at every start, so a changed configuration takes effect.
        await docs.replaceOne({ _id: doc._id }, doc, { upsert: true });
      } else {
        await docs.insertOne(doc);
      }
      cache.delete(doc._id);
      return { record: toRecord(doc), key };
    },
    async list({ after, limit }) {
      const found = await docs
        .find(after ? { _id: { $gt: after } } : {})
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      return found.map(toRecord);
    },
    async get(id) {
      const doc = await docs.findOne({ _id: id });
      return doc ? toRecord(doc) : undefined;
    },
    async revoke(id, now) {
      await docs.updateOne({ _id: id, status: 'ACTIVE' }, { $set: { status: 'REVOKED', revokeTime: now } });
      cache.delete(id);
      const doc = await docs.findOne({ _id: id });
      return doc ? toRecord(doc) : undefined;
    },
  };
}
