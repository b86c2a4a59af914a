// With an OpenTelemetry SDK registered, the relay's PRODUCER span continues the trace stored with the event.
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { waitFor } from '@o2o/kit-testing';
import { outboxEntry } from '../src/outbox-entry';
import { startOutboxRelay } from '../src/outbox-relay';
import { cleanUp, collect, startHarness } from './harness';

jest.setTimeout(60_000); // jest applies testTimeout only globally, not per project

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

it('publishes under a "<topic> publish" PRODUCER span whose parent is the request that wrote the event', async () => {
  const h = await startHarness({ partitions: 1 });
  const producer = await h.kafka.producer();
  const c = await collect(h.kafka, h.topic);
  const relay = startOutboxRelay({ collection: h.collection, producer, logger: h.logger, pollIntervalMs: 50 });
  try {
    const request = trace.getTracer('test').startSpan('PlaceOrder', { kind: SpanKind.SERVER });
    const entry = context.with(trace.setSpan(context.active(), request), () =>
      outboxEntry({
        topic: h.topic,
        key: 'o-1',
        type: 'o2o.test.v1.X',
        source: '/t',
        subject: 'o-1',
        payload: Buffer.from('x'),
      }),
    );
    request.end();
    await h.collection.insertOne({ _id: 'o-1' as never, outbox: [entry] });
    relay.kick();

    await c.waitForCount(1);
    const span = await waitFor(() => exporter.getFinishedSpans().find((s) => s.name === `${h.topic} publish`));
    // The header names the publish span, so a consumer's span is its child: request → publish → consumer.
    expect(c.received[0]?.headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(span.attributes['messaging.message.id']).toBe(entry.id);
    expect(span.instrumentationScope.name).toBe('o2o-outbox');
  } finally {
    await cleanUp([() => relay.stop(), () => c.stop(), () => producer.disconnect(), () => h.close()]);
  }
});
