import { mongo } from 'mongoose';
import type { OutboxEntry } from './outbox-entry';

/** An entry as read back from the database, plus the raw subdocument (to remove it by exact match). */
export interface StoredEntry extends OutboxEntry {
  raw: mongo.Document;
}

const TEXT_FIELDS = ['id', 'topic', 'key', 'type', 'source', 'subject'] as const;

/** Validates a document's `outbox` array; an Error names the first bad entry instead of throwing mid-round. */
export function readStoredEntries(value: unknown): StoredEntry[] | Error {
  if (!Array.isArray(value)) return new Error('field "outbox" is not an array');
  const entries: StoredEntry[] = [];
  for (const [index, raw] of (value as unknown[]).entries()) {
    if (typeof raw !== 'object' || raw === null) return new Error(`outbox[${index}] is not a document`);
    const fields = raw as Record<string, unknown>;
    const missing = TEXT_FIELDS.find((name) => typeof fields[name] !== 'string' || fields[name] === '');
    if (missing) return new Error(`outbox[${index}].${missing} is missing or not a string`);
    if (!(fields.time instanceof Date)) return new Error(`outbox[${index}].time is not a date`);
    const payload = toBuffer(fields.payload);
    if (!payload) return new Error(`outbox[${index}].payload is not binary`);
    const entry: StoredEntry = {
      id: fields.id as string,
      topic: fields.topic as string,
      key: fields.key as string,
      type: fields.type as string,
      source: fields.source as string,
      subject: fields.subject as string,
      time: fields.time,
      payload,
      raw: fields,
    };
    if (typeof fields.traceparent === 'string') entry.traceparent = fields.traceparent;
    if (typeof fields.tracestate === 'string') entry.tracestate = fields.tracestate;
    entries.push(entry);
  }
  return entries;
}

// The driver hands BSON binary back as a Binary object, not the Buffer that was written.
function toBuffer(value: unknown): Buffer | undefined {
  if (value instanceof mongo.Binary) return Buffer.from(value.buffer.subarray(0, value.position));
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  return undefined;
}
