// "No change": the state of every service database and the end offsets of every topic of the run, taken before and
// after the sweep. Documents are compared by a hash of their canonical JSON, without the fields that background loops
// rewrite on their own (see VOLATILE).
import { createHash } from 'node:crypto';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { BSON, type MongoClient } from 'mongodb';

/**
 * Fields that change while nothing happens, by "database role/collection": excluded from the document hashes.
 * Empty on purpose: a quiet system (no topic moving) was diffed over a minute and rewrote nothing. The relays' leases
 * live in their own `*_outbox_leases` collections and are gone once the outbox is drained, events are marked sent
 * before the topics stop moving, and the periodic sweepers (holds, wallet expiry, task and offer timers, recovery)
 * write only when something is due, which nothing seeded is within the test. A loop that starts rewriting a field
 * while idle shows up here as a difference, printed field by field; add it with the reason if it is legitimate.
 */
export const VOLATILE: Record<string, readonly string[]> = {};

/** One collection: its document count, a hash over its documents, and each document's hash by _id (for the diff). */
interface CollectionState {
  count: number;
  hash: string;
  documents: Record<string, string>;
}

/** Everything the sweep must leave unchanged. */
export interface Snapshot {
  /** "role/collection" → state. */
  collections: Record<string, CollectionState>;
  /** "topic" → end offset (high watermark) per partition. */
  offsets: Record<string, string[]>;
}

/** Reads every collection of the databases (role → name) and the end offsets of every topic with the prefix. */
export async function takeSnapshot(
  mongo: MongoClient,
  databases: Record<string, string>,
  admin: Admin,
  prefix: string,
): Promise<Snapshot> {
  const collections: Record<string, CollectionState> = {};
  for (const [role, name] of Object.entries(databases)) {
    const db = mongo.db(name);
    for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
      const key = `${role}/${collection}`;
      const volatile = VOLATILE[`${role}/${collection}`] ?? [];
      const documents: Record<string, string> = {};
      const all = createHash('sha256');
      const docs = await db.collection(collection).find({}).sort({ _id: 1 }).toArray();
      for (const doc of docs) {
        const id = BSON.EJSON.stringify(doc._id);
        const text = canonical(omit(asJson(doc), volatile));
        documents[id] = text;
        all.update(text);
      }
      collections[key] = { count: docs.length, hash: all.digest('hex'), documents };
    }
  }
  return { collections, offsets: await topicOffsets(admin, prefix) };
}

/** The end offset of every partition of every topic whose name starts with the prefix. */
export async function topicOffsets(admin: Admin, prefix: string): Promise<Record<string, string[]>> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort();
  const offsets: Record<string, string[]> = {};
  for (const topic of topics) {
    const partitions = await admin.fetchTopicOffsets(topic);
    offsets[topic] = partitions.sort((a, b) => a.partition - b.partition).map((p) => p.high);
  }
  return offsets;
}

/** A kafkajs admin client for the run's brokers. */
export async function kafkaAdmin(brokers: string[]): Promise<Admin> {
  const admin = new Kafka({ clientId: 'bad-input-sweep', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return admin;
}

/** Waits until no topic of the run has moved for `quietMs` (the system has finished reacting to the seeding). */
export async function waitQuiet(
  admin: Admin,
  prefix: string,
  options: { quietMs: number; timeoutMs: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = JSON.stringify(await topicOffsets(admin, prefix));
  let since = Date.now();
  while (Date.now() - since < options.quietMs) {
    if (Date.now() > deadline) throw new Error(`the topics under ${prefix} kept moving for ${options.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
    const now = JSON.stringify(await topicOffsets(admin, prefix));
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** What a snapshot covers, in one line for the report. */
export function describeSnapshot(s: Snapshot): string {
  const states = Object.values(s.collections);
  const databases = new Set(Object.keys(s.collections).map((k) => k.split('/')[0]));
  const documents = states.reduce((n, c) => n + c.count, 0);
  const messages = Object.values(s.offsets).reduce((n, o) => n + o.reduce((m, x) => m + Number(x), 0), 0);
  const each = Object.entries(s.collections).map(([key, c]) => `${key} ${c.count}`);
  const topics = Object.entries(s.offsets).map(
    ([topic, o]) => `${topic.split('.').slice(-2).join('.')} ${o.join('+')}`,
  );
  return (
    `${states.length} collections in ${databases.size} databases (${documents} documents: ${each.join(', ')}), ` +
    `${Object.keys(s.offsets).length} topics (${messages} messages: ${topics.join(', ')})`
  );
}

/** Every difference between two snapshots, readable: collections, documents (field by field) and topics. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(before.collections), ...Object.keys(after.collections)]);
  for (const key of [...keys].sort()) {
    const a = before.collections[key];
    const b = after.collections[key];
    if (!a || !b) {
      out.push(`${key}: collection ${a ? 'dropped' : 'created'} (${(a ?? b)?.count} documents)`);
      continue;
    }
    if (a.hash === b.hash) continue;
    if (a.count !== b.count) out.push(`${key}: ${a.count} → ${b.count} documents`);
    const ids = new Set([...Object.keys(a.documents), ...Object.keys(b.documents)]);
    for (const id of ids) {
      const x = a.documents[id];
      const y = b.documents[id];
      if (x === y) continue;
      if (!x || !y) out.push(`${key} ${id}: ${x ? 'deleted' : `inserted ${y?.slice(0, 300)}`}`);
      else out.push(`${key} ${id}: ${fieldDiff(x, y)}`);
    }
  }
  const topics = new Set([...Object.keys(before.offsets), ...Object.keys(after.offsets)]);
  for (const topic of [...topics].sort()) {
    const a = (before.offsets[topic] ?? []).join(',');
    const b = (after.offsets[topic] ?? []).join(',');
    if (a !== b) out.push(`topic ${topic}: end offsets [${a}] → [${b}]`);
  }
  return out;
}

function fieldDiff(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  const changed = [...fields].filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
  return changed
    .map((f) => `${f}: ${JSON.stringify(a[f])?.slice(0, 120)} → ${JSON.stringify(b[f])?.slice(0, 120)}`)
    .join('; ');
}

/** Canonical extended JSON as plain data: ObjectIds, dates and longs become their {"$oid": …} forms. */
function asJson(doc: unknown): Record<string, unknown> {
  return JSON.parse(BSON.EJSON.stringify(doc, { relaxed: false })) as Record<string, unknown>;
}

/** The document without the named fields (dotted paths reach into sub-documents). */
function omit(doc: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  for (const path of paths) {
    const parts = path.split('.');
    let target: Record<string, unknown> | undefined = doc;
    for (const part of parts.slice(0, -1)) {
      const next: unknown = target?.[part];
      target = next && typeof next === 'object' ? (next as Record<string, unknown>) : undefined;
    }
    if (target) delete target[parts[parts.length - 1] ?? ''];
  }
  return doc;
}

/** JSON with keys in a fixed order, so equal documents hash equally whatever order their fields were stored in. */
function canonical(doc: Record<string, unknown>): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return JSON.stringify(sorted(doc));
}
