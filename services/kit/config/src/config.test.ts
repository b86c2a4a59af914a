import { ConfigError, env, parseConfig, z } from './index';

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
