import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How the test servers were provided: given by the environment, started by scripts/infra.sh, or by testcontainers. */
export type InfraSource = 'env' | 'local' | 'testcontainers';

/** Where the real Kafka and MongoDB-protocol server for this test run are (set up by test/global-setup.ts). */
export interface TestInfra {
  kafkaBrokers: string[];
  mongoUrl: string;
  source: InfraSource;
}

/** The test run's servers; fails loudly when the global setup did not run. */
export function testInfra(): TestInfra {
  const brokers = process.env.KAFKA_BROKERS;
  const mongoUrl = process.env.MONGO_URL;
  if (!brokers || !mongoUrl) {
    throw new Error(
      'KAFKA_BROKERS and MONGO_URL are not set: run integration tests through jest (test/global-setup.ts)',
    );
  }
  return {
    kafkaBrokers: brokers.split(',').map((b) => b.trim()),
    mongoUrl,
    source: (process.env.O2O_TEST_INFRA as InfraSource | undefined) ?? 'env',
  };
}

/** A name unique to this test (database, topic prefix, consumer group): tests never share state. */
export function uniqueName(prefix: string): string {
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
  return `${prefix}_${suffix}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
}

/** Polls until the check returns a value other than undefined/false, or fails with the last error after the timeout. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`Timed out waiting for ${options.what ?? 'condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

/** The repository root (where scripts/ lives). */
export function repoRoot(): string {
  return path.resolve(__dirname, '..', '..', '..', '..');
}

/**
 * Stops or starts the local Kafka broker that scripts/infra.sh runs, for fault tests. Returns false, without doing
 * anything, when the broker is not one this project's script manages (KAFKA_BROKERS pointed elsewhere).
 */
export async function controlLocalKafka(action: 'up' | 'down'): Promise<boolean> {
  return controlLocal('kafka', action);
}

/** Stops or starts the local FerretDB (scripts/infra.sh); false (and nothing done) when the test run does not manage it. */
export async function controlLocalDatabase(action: 'up' | 'down'): Promise<boolean> {
  return controlLocal('ferretdb', action);
}

async function controlLocal(server: 'kafka' | 'ferretdb', action: 'up' | 'down'): Promise<boolean> {
  if (testInfra().source !== 'local') return false;
  await run('bash', [path.join(repoRoot(), 'scripts', 'infra.sh'), action, server], { timeout: 180_000 });
  return true;
}

export { collectTopic, publishTo, type ProbedMessage } from './kafka-probe';
export { refusal, statusOf } from './grpc-status';
export { grpcHealth } from './grpc-health';
export { freePort } from './free-port';
