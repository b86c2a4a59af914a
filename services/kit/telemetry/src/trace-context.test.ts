import { trace } from '@opentelemetry/api';
import { startTelemetry, type Telemetry } from './start-telemetry';
import { currentTraceparent, parseTraceparent, traceIdOf, withTraceparent } from './trace-context';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('trace context helpers', () => {
  let telemetry: Telemetry;
  // The SDK is needed for a real context manager: without one, context.with() cannot carry a parent.
  beforeAll(() => {
    telemetry = startTelemetry({ serviceName: 'trace-context-test', traces: 'memory' });
  });
  afterAll(() => telemetry.shutdown());

  it('starts spans inside withTraceparent as children of that traceparent', async () => {
    const seen = withTraceparent(TRACEPARENT, () =>
      trace.getTracer('test').startActiveSpan('child', (span) => {
        span.end();
        return currentTraceparent();
      }),
    );
    await telemetry.forceFlush();

    const [child] = telemetry.memoryExporter!.getFinishedSpans();
    expect(child?.spanContext().traceId).toBe(TRACE_ID);
    expect(child?.parentSpanContext?.spanId).toBe(SPAN_ID);
    expect(child?.parentSpanContext?.isRemote).toBe(true);
    // Round trip: what the child reports as current is its own id under the same trace, sampled.
    expect(seen).toBe(`00-${TRACE_ID}-${child?.spanContext().spanId}-01`);
    expect(traceIdOf(seen)).toBe(TRACE_ID);
  });

  it('reports no traceparent outside any span', () => {
    expect(currentTraceparent()).toBeUndefined();
  });

  it('leaves the active context alone for a missing or malformed traceparent', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
    ]) {
      expect(withTraceparent(bad, () => currentTraceparent())).toBeUndefined();
      expect(traceIdOf(bad)).toBeUndefined();
    }
  });

  it('keeps only the sampled flag and accepts future versions with extra fields', () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-03`)?.traceFlags).toBe(1);
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-00-extra`)?.spanId).toBe(SPAN_ID);
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-01-extra`)).toBeUndefined();
  });
});
