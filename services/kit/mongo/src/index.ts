import mongoose, { type Connection } from 'mongoose';
import { watchHeartbeats } from './heartbeat-watchdog';

export type { Connection };
export { type HeartbeatEvents, watchHeartbeats } from './heartbeat-watchdog';

/** Options for {@link connectMongo}. */
export interface MongoOptions {
  url: string;
  dbName: string;
  /** How long to wait for a server before failing a call or the start-up (ms). */
  serverSelectionTimeoutMs?: number;
  appName?: string;
  /** Where to say that the driver's server monitor was found stuck and restarted (see heartbeat-watchdog.ts). */
  logger?: { warn(fields: object, message: string): void };
}

/** How long connecting, and the monitor's heartbeat on a connection, may take (ms). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a dedicated mongoose connection (never the global one, so several services or tests can share a process)
 * and waits until the server answers. Works against MongoDB 7 and FerretDB 1.24 alike: the code that uses it sticks
 * to single-document atomic updates (see docs/infrastructure.md).
 */
export async function connectMongo(options: MongoOptions): Promise<Connection> {
  const connection = mongoose.createConnection(options.url, {
    dbName: options.dbName,
    appName: options.appName,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
    autoIndex: false,
    autoCreate: false,
    retryWrites: false,
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
  });
  await connection.asPromise();
  const client = connection.getClient();
  const stop = watchHeartbeats(client, {
    // A heartbeat ends within the connect timeout (its socket timeout) plus a heartbeat period; well past that, stuck.
    stuckAfterMs: CONNECT_TIMEOUT_MS + 15_000,
    restart: (address) => restartMonitor(client, address),
    onRestarted: (address, stuckForMs) =>
      options.logger?.warn({ address, stuckForMs }, 'The database driver’s server monitor was stuck; restarted it'),
  });
  connection.once('close', stop);
  return connection;
}

/**
 * Restarts the driver's monitor of one server (close, then connect: a fresh check at once, the stuck one abandoned).
 * The monitor is not public API: found by shape, and false when the driver no longer has it so.
 */
function restartMonitor(client: unknown, address: string): boolean {
  const servers = (client as { topology?: { s?: { servers?: Map<string, { monitor?: unknown }> } } }).topology?.s
    ?.servers;
  const monitor = servers?.get(address)?.monitor as { close?: () => void; connect?: () => void } | undefined;
  if (typeof monitor?.close !== 'function' || typeof monitor.connect !== 'function') return false;
  monitor.close();
  monitor.connect();
  return true;
}

/** True for a unique-index violation (E11000), from MongoDB or FerretDB. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** Which server speaks on the connection: FerretDB reports its own version in buildInfo. */
export async function serverFlavour(
  connection: Connection,
): Promise<{ kind: 'mongodb' | 'ferretdb'; version: string }> {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const info = await db.admin().command({ buildInfo: 1 });
  if (typeof info.ferretdbVersion === 'string') return { kind: 'ferretdb', version: info.ferretdbVersion };
  return { kind: 'mongodb', version: String(info.version) };
}

/** A per-process, per-test database name, short enough for both servers' limits. */
export function uniqueDbName(prefix: string): string {
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return `${prefix}_${suffix}`.replace(/[^a-zA-Z0-9_]/g, '_').slice(0, 60);
}
