import { ConfigError } from '@o2o/kit-config';
import { loadConfig } from './config';

describe('payments config', () => {
  it('has local defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ GRPC_PORT: 50054, WALLET_CALLBACK_PORT: 50154, WALLET_PAYMENT_TTL_MS: 900_000 });
    expect(config.WALLET_SIMULATOR_PORT).toBeUndefined();
  });

  it('refuses the local callback secret in production, and short secrets anywhere', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', WALLET_CALLBACK_SECRET: 'a-real-secret-from-vault' }),
    ).not.toThrow();
    expect(() => loadConfig({ WALLET_CALLBACK_SECRET: 'short' })).toThrow(/WALLET_CALLBACK_SECRET/);
  });
});
