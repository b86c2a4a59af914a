import { fromCloudEventHeaders, toCloudEventHeaders, type CloudEventAttributes } from '../src/cloud-events';

const attributes: CloudEventAttributes = {
  id: '6f1c1a52-2b7e-4c0e-9a51-0d7b8f0f4b11',
  type: 'o2o.catalogue.v1.ProductCreated',
  source: '/o2o/catalogue',
  subject: 'p-1',
  time: new Date('2026-03-01T12:34:56.789Z'),
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'vendor=abc',
};

describe('CloudEvents binary-mode headers', () => {
  it('maps the attributes to the ce_* headers of the contract', () => {
    expect(toCloudEventHeaders(attributes)).toEqual({
      ce_specversion: '1.0',
      ce_id: attributes.id,
      ce_type: 'o2o.catalogue.v1.ProductCreated',
      ce_source: '/o2o/catalogue',
      ce_subject: 'p-1',
      ce_time: '2026-03-01T12:34:56.789Z',
      'content-type': 'application/protobuf',
      traceparent: attributes.traceparent,
      tracestate: 'vendor=abc',
    });
  });

  it('round-trips, with and without trace context', () => {
    expect(fromCloudEventHeaders(toCloudEventHeaders(attributes))).toEqual(attributes);
    const { traceparent: _p, tracestate: _s, ...untraced } = attributes;
    const headers = toCloudEventHeaders(untraced);
    expect(headers).not.toHaveProperty('traceparent');
    expect(headers).not.toHaveProperty('tracestate');
    expect(fromCloudEventHeaders(headers)).toEqual(untraced);
  });

  it('accepts an RFC 3339 time with an offset and normalises it', () => {
    const headers = { ...toCloudEventHeaders(attributes), ce_time: '2026-03-01T14:34:56+02:00' };
    expect(fromCloudEventHeaders(headers).time.toISOString()).toBe('2026-03-01T12:34:56.000Z');
  });

  it.each(['ce_id', 'ce_type', 'ce_source', 'ce_subject', 'ce_time', 'ce_specversion'])(
    'names the missing header %s',
    (name) => {
      const headers = toCloudEventHeaders(attributes);
      delete headers[name];
      expect(() => fromCloudEventHeaders(headers)).toThrow(`header "${name}" is missing`);
    },
  );

  it('rejects a wrong spec version and a time that is not RFC 3339', () => {
    const headers = toCloudEventHeaders(attributes);
    expect(() => fromCloudEventHeaders({ ...headers, ce_specversion: '0.3' })).toThrow('"ce_specversion" is "0.3"');
    expect(() => fromCloudEventHeaders({ ...headers, ce_time: '2026-03-01' })).toThrow('"ce_time" is "2026-03-01"');
    expect(() => fromCloudEventHeaders({ ...headers, ce_time: 'yesterday' })).toThrow('expected an RFC 3339 time');
  });

  it('refuses to build headers for an invalid Date', () => {
    expect(() => toCloudEventHeaders({ ...attributes, time: new Date('nope') })).toThrow('invalid Date');
  });
});
