// outboxEntry() captures the trace context of the request that caused the event (and nothing without an SDK).
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { outboxEntry, outboxPush } from '../src/outbox-entry';

const event = {
  topic: 'o2o.test.v1',
  key: 'a-1',
  type: 'o2o.test.v1.X',
  source: '/o2o/test',
  subject: 'a-1',
  payload: Buffer.from([1]),
};

describe('outboxEntry', () => {
  afterEach(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('assigns a UUID, the time, and no trace fields when no OpenTelemetry SDK is registered', () => {
    const before = Date.now();
    const entry = outboxEntry(event);
    expect(entry.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(entry.time.getTime()).toBeGreaterThanOrEqual(before);
    expect(entry).not.toHaveProperty('traceparent'); // absent, not undefined (the driver would store null)
    expect(entry).not.toHaveProperty('tracestate');
    expect(outboxEntry(event, { id: 'fixed' }).id).toBe('fixed');
    expect(outboxEntry({ ...event, time: new Date(0) }).time).toEqual(new Date(0));
  });

  it('captures the active span as a W3C traceparent', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new TracerProvider());
    const span = trace.getTracer('test').startSpan('PlaceOrder');
    const entry = context.with(trace.setSpan(context.active(), span), () => outboxEntry(event));
    span.end();
    const { traceId, spanId } = span.spanContext();
    expect(entry.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it('builds the $push clause repositories add to their update', () => {
    const entries = [outboxEntry(event)];
    expect(outboxPush(entries)).toEqual({ outbox: { $each: entries } });
  });
});
