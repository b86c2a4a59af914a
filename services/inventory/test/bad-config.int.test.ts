// The built process refuses a bad environment at start-up: exit code 2 and one line per bad variable, before it
// touches the database or Kafka.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '@o2o/kit-testing';

it('exits 2 naming every bad variable', async () => {
  const bin = path.join(repoRoot(), 'services', 'inventory', 'dist', 'bin.js');
  const child = spawn(process.execPath, [bin], {
    env: {
      PATH: process.env.PATH,
      GRPC_PORT: 'seventy',
      KAFKA_SASL_MECHANISM: 'gssapi',
      HOLD_SWEEP_INTERVAL_MS: '-5',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code).toBe(2);
  expect(stderr).toMatch(/^inventory: Invalid configuration:/);
  for (const name of ['GRPC_PORT', 'KAFKA_SASL_MECHANISM', 'HOLD_SWEEP_INTERVAL_MS']) expect(stderr).toContain(name);
});
