import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import type { mongo } from 'mongoose';

/** Name of the array field that holds an aggregate's unsent events. */
export const OUTBOX_FIELD = 'outbox';

/** One unsent event, stored in the aggregate's own document next to the state change that caused it. */
export interface OutboxEntry {
  /** The CloudEvents id (ce_id): consumers deduplicate on it. */
  id: string;
  topic: string;
  /** The Kafka key: the aggregate id, so one aggregate's events stay in order. */
  key: string;
  /** Full protobuf name of the payload, e.g. "o2o.catalogue.v1.ProductCreated". */
  type: string;
  source: string;
  subject: string;
  time: Date;
  /** The protobuf-encoded event (stored as BSON Binary). */
  payload: Buffer;
  /** W3C trace context of the request that caused the change. */
  traceparent?: string;
  tracestate?: string;
}

/** What a use case knows about an event; {@link outboxEntry} adds the id, time and trace context. */
export interface OutboxEvent {
  topic: string;
  key: string;
  type: string;
  source: string;
  subject: string;
  payload: Buffer;
  time?: Date;
}

/** Builds an outbox entry with a random UUID id and the active OpenTelemetry trace context (if any). */
export function outboxEntry(event: OutboxEvent, options: { id?: string } = {}): OutboxEntry {
  const carrier: Record<string, string> = {};
  // A no-op when no SDK (propagator) is registered: the entry then simply has no traceparent.
  propagation.inject(context.active(), carrier);
  const entry: OutboxEntry = {
    id: options.id ?? randomUUID(),
    topic: event.topic,
    key: event.key,
    type: event.type,
    source: event.source,
    subject: event.subject,
    time: event.time ?? new Date(),
    payload: event.payload,
  };
  // Absent rather than undefined: the driver would store undefined as null.
  if (carrier.traceparent) entry.traceparent = carrier.traceparent;
  if (carrier.tracestate) entry.tracestate = carrier.tracestate;
  return entry;
}

/** The `$push` clause that appends entries to a document's outbox, for the same update as the state change. */
export function outboxPush(entries: OutboxEntry[]): { outbox: { $each: OutboxEntry[] } } & mongo.Document {
  // The `& Document` lets it pass the driver's $push type on schemaless collections as well as on typed models.
  return { outbox: { $each: entries } };
}
