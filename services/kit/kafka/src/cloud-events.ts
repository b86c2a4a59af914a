// CloudEvents 1.0 in Kafka binary content mode (proto/o2o/common/v1/events.proto lists the headers): the attributes
// travel as `ce_*` headers and the value is the protobuf event itself.

/** The CloudEvents attributes this project sets on every event. */
export interface CloudEventAttributes {
  id: string;
  type: string;
  source: string;
  subject: string;
  time: Date;
  traceparent?: string;
  tracestate?: string;
}

/** The content type of every event value. */
export const EVENT_CONTENT_TYPE = 'application/protobuf';

const REQUIRED = ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_subject', 'ce_time'] as const;

// RFC 3339 date-time: Date.parse alone would also accept "2024-01-01" or locale formats.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Kafka headers for an event: ce_* attributes, content-type, and the W3C trace context when there is one. */
export function toCloudEventHeaders(attributes: CloudEventAttributes): Record<string, string> {
  if (Number.isNaN(attributes.time.getTime())) {
    throw new Error(`Cannot build CloudEvents headers for event "${attributes.id}": its time is an invalid Date`);
  }
  const headers: Record<string, string> = {
    ce_specversion: '1.0',
    ce_id: attributes.id,
    ce_type: attributes.type,
    ce_source: attributes.source,
    ce_subject: attributes.subject,
    ce_time: attributes.time.toISOString(),
    'content-type': EVENT_CONTENT_TYPE,
  };
  if (attributes.traceparent) headers.traceparent = attributes.traceparent;
  if (attributes.tracestate) headers.tracestate = attributes.tracestate;
  return headers;
}

/** Reads the attributes back; throws an error naming the first missing or invalid header. */
export function fromCloudEventHeaders(headers: Record<string, string>): CloudEventAttributes {
  for (const name of REQUIRED) {
    if (!headers[name]) throw new Error(`Invalid CloudEvent: header "${name}" is missing or empty`);
  }
  const specVersion = headers.ce_specversion;
  if (specVersion !== '1.0') {
    throw new Error(`Invalid CloudEvent: header "ce_specversion" is "${specVersion}", expected "1.0"`);
  }
  const time = headers.ce_time ?? '';
  const parsed = new Date(time);
  if (!RFC3339.test(time) || Number.isNaN(parsed.getTime())) {
    throw new Error(`Invalid CloudEvent: header "ce_time" is "${time}", expected an RFC 3339 time`);
  }
  const attributes: CloudEventAttributes = {
    id: headers.ce_id ?? '',
    type: headers.ce_type ?? '',
    source: headers.ce_source ?? '',
    subject: headers.ce_subject ?? '',
    time: parsed,
  };
  if (headers.traceparent) attributes.traceparent = headers.traceparent;
  if (headers.tracestate) attributes.tracestate = headers.tracestate;
  return attributes;
}
