import { context, isSpanContextValid, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';

// W3C Trace Context: version-traceid-parentid-flags. Version 00 has exactly four fields; later versions may
// append more, which a version-00 reader must ignore (spec section "Versioning of traceparent").
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The W3C `traceparent` of the active span, or undefined when no valid span is active. */
export function currentTraceparent(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/** Parses a W3C `traceparent` into a remote span context; undefined when it is missing or malformed. */
export function parseTraceparent(traceparent: string | undefined): SpanContext | undefined {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const spanContext: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    // Only the sampled bit is defined; other bits are reserved and must not be propagated as set.
    traceFlags: parseInt(flags!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The trace id inside a W3C `traceparent` (for logs and error reports), or undefined when it is malformed. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

/**
 * Runs fn with `traceparent` as the parent of any span it starts (the outbox relay and consumers use this to
 * continue the request's trace). A missing or malformed traceparent leaves the active context unchanged.
 */
export function withTraceparent<T>(traceparent: string | undefined, fn: () => T): T {
  const spanContext = parseTraceparent(traceparent);
  if (!spanContext) return fn();
  return context.with(trace.setSpanContext(context.active(), spanContext), fn);
}
