import mongoose, { type Connection } from 'mongoose';

export type { Connection };

/** Options for {@link connectMongo}. */
export interface MongoOptions {
  url: string;
  dbName: string;
  /** How long to wait for a server before failing a call or the start-up (ms). */
  serverSelectionTimeoutMs?: number;
  appName?: string;
}

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
  });
  await connection.asPromise();
  return connection;
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
