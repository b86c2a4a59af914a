import { ConfigError, env, kafkaEnv, kafkaSasl, parseConfig, serviceEnv, z } from './index';

const schema = z.object({
  GRPC_PORT: env.port().default(50051),
  KAFKA_BROKERS: env.list(),
  DEBUG: env.bool().default(false),
});

describe('parseConfig', () => {
  it('parses, applies defaults and freezes', () => {
    const config = parseConfig(schema, { KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093' });
    expect(config).toEqual({ GRPC_PORT: 50051, KAFKA_BROKERS: ['127.0.0.1:9092', '127.0.0.1:9093'], DEBUG: false });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.KAFKA_BROKERS)).toBe(true);
  });

  it('names every bad or missing variable', () => {
    let error: unknown;
    try {
      parseConfig(schema, { GRPC_PORT: '70000', DEBUG: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/GRPC_PORT/);
    expect(problems).toMatch(/KAFKA_BROKERS/);
    expect(problems).toMatch(/DEBUG/);
  });
});

describe('kafkaEnv and kafkaSasl', () => {
  const schema = z.object({ ...kafkaEnv });

  it('defaults to no SASL, no TLS and 6 partitions', () => {
    const config = parseConfig(schema, {});
    expect(config).toEqual({ KAFKA_SSL: false, KAFKA_TOPIC_PARTITIONS: 6 });
    expect(kafkaSasl(config)).toBeUndefined();
  });

  it('builds SCRAM credentials when a mechanism and both credentials are set', () => {
    const config = parseConfig(schema, {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'inventory',
      KAFKA_SASL_PASSWORD: 's3cret',
      KAFKA_TOPIC_PARTITIONS: '12',
    });
    expect(kafkaSasl(config)).toEqual({ mechanism: 'scram-sha-512', username: 'inventory', password: 's3cret' });
    expect(config.KAFKA_TOPIC_PARTITIONS).toBe(12);
  });

  it('refuses a mechanism without credentials, naming what is missing', () => {
    const config = parseConfig(schema, { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'inventory' });
    expect(() => kafkaSasl(config)).toThrow(/KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set/);
  });

  it('refuses an unknown mechanism', () => {
    expect(() => parseConfig(schema, { KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(ConfigError);
  });
});

describe('serviceEnv metrics variables', () => {
  const schema = z.object(serviceEnv('orders', 50053));

  it('exports no metrics unless asked, on port 9464 when asked, gauges queried at most every 15 s', () => {
    const defaults = parseConfig(schema, {});
    expect(defaults).toMatchObject({ OTEL_METRICS_EXPORTER: 'none', METRICS_PORT: 9464 });
    expect(defaults.METRICS_QUERY_INTERVAL_MS).toBe(15_000);
    expect(parseConfig(schema, { OTEL_METRICS_EXPORTER: 'prometheus', METRICS_PORT: '9500' })).toMatchObject({
      OTEL_METRICS_EXPORTER: 'prometheus',
      METRICS_PORT: 9500,
    });
  });

  it('refuses an unknown exporter and a bad port', () => {
    expect(() => parseConfig(schema, { OTEL_METRICS_EXPORTER: 'statsd', METRICS_PORT: '70000' })).toThrow(
      /OTEL_METRICS_EXPORTER[\s\S]*METRICS_PORT/,
    );
  });
});
