// Sending outbox entries and removing them afterwards: the two halves of a relay round.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { toCloudEventHeaders, type EventProducer, type OutgoingMessage } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import type { mongo } from 'mongoose';
import type { DocumentId } from './outbox-leases';
import type { StoredEntry } from './stored-entry';

const tracer = trace.getTracer('o2o-outbox');

/** An aggregate document's entries, as read by the relay that holds its lease. */
export interface PendingDocument {
  id: DocumentId;
  entries: StoredEntry[];
}

/**
 * Sends the entries in order, in one producer call, and resolves once the broker acknowledged all of them.
 * Each event gets a PRODUCER span whose parent is its stored traceparent (the request that caused it), and its
 * traceparent header names that span, so a trace reads request → publish → consumer.
 */
export async function publishEntries(producer: EventProducer, entries: StoredEntry[]): Promise<void> {
  const spans: Span[] = [];
  const messages: OutgoingMessage[] = entries.map((entry) => {
    const span = publishSpan(entry);
    spans.push(span);
    const headers = toCloudEventHeaders(entry);
    if (entry.traceparent) {
      delete headers.tracestate;
      propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
    }
    return { topic: entry.topic, key: entry.key, value: entry.payload, headers };
  });
  try {
    // One send carries events of many requests, but the kafkajs instrumentation would parent every message on the
    // relay's own context and overwrite its traceparent: suppressed here, each message keeps its own trace.
    await context.with(suppressTracing(context.active()), () => producer.send(messages));
  } catch (error) {
    for (const span of spans) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'Kafka send failed' });
      span.end();
    }
    throw error;
  }
  for (const span of spans) span.end();
}

function publishSpan(entry: StoredEntry): Span {
  const carrier: Record<string, string> = {};
  if (entry.traceparent) carrier.traceparent = entry.traceparent;
  if (entry.tracestate) carrier.tracestate = entry.tracestate;
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  return tracer.startSpan(
    `${entry.topic} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': entry.topic,
        'messaging.message.id': entry.id,
        'messaging.kafka.message.key': entry.key,
        'cloudevents.event_type': entry.type,
      },
    },
    parent,
  );
}

/**
 * Removes exactly the published entries; entries appended meanwhile stay. `$pullAll` with the subdocuments as read,
 * because FerretDB 1.24's `$pull` ignores query conditions (`{ id: { $in } }` silently matches nothing); a `$pull`
 * by id follows only if an exact match ever missed (MongoDB). A failure here means the events are sent again.
 */
export async function removeSent(
  collection: mongo.Collection<mongo.Document>,
  pending: PendingDocument,
  logger: Logger,
): Promise<void> {
  const raw = pending.entries.map((e) => e.raw);
  const ids = pending.entries.map((e) => e.id);
  const filter = { _id: pending.id } as mongo.Filter<mongo.Document>;
  try {
    // Typed as a plain Document: the driver's array-operator types reject any field of a schemaless collection.
    const exact: mongo.Document = { outbox: raw };
    let after = await collection.findOneAndUpdate(filter, { $pullAll: exact }, { returnDocument: 'after' });
    if (!after || !containsAny(after.outbox, ids)) return;
    const byId: mongo.Document = { outbox: { id: { $in: ids } } };
    after = await collection.findOneAndUpdate(filter, { $pull: byId }, { returnDocument: 'after' });
    if (after && containsAny(after.outbox, ids)) {
      logger.error(
        { documentId: pending.id, ids },
        'Published outbox entries could not be removed; they will be sent again',
      );
    }
  } catch (err) {
    logger.warn({ err, documentId: pending.id }, 'Could not remove published outbox entries; they will be sent again');
  }
}

function containsAny(outbox: unknown, ids: string[]): boolean {
  if (!Array.isArray(outbox)) return false;
  return outbox.some(
    (e: unknown) => typeof e === 'object' && e !== null && ids.includes((e as { id?: string }).id ?? ''),
  );
}
