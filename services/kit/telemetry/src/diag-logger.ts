import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

// The SDK reports its own trouble (an unreachable collector, a dropped batch) through `diag`. Without a
// logger it is silent; with the console logger an absent collector prints an error every few seconds.
// This logger prints each kind of message once: digits are masked so retries with new timestamps, ports or
// counts count as the same message, and after MAX_DISTINCT kinds it goes quiet for good.
const MAX_DISTINCT = 50;

/** Routes OpenTelemetry's own diagnostics to stderr as JSON lines, each kind of message at most once. */
export function installOnceDiagLogger(serviceName: string, write: (line: string) => void = writeStderr): void {
  const seen = new Set<string>();
  const emit =
    (level: string) =>
    (raw: string, ...args: unknown[]): void => {
      const message = readable(raw);
      const key = `${level}:${message.replace(/\d+/g, '#').slice(0, 160)}`;
      if (seen.has(key) || seen.size >= MAX_DISTINCT) return;
      seen.add(key);
      const detail = args.length > 0 ? ` ${args.map(describe).join(' ')}` : '';
      const msg = `opentelemetry: ${message}${detail} (repeats of this message are not logged)`;
      write(JSON.stringify({ level, time: new Date().toISOString(), service: serviceName, msg }));
    };
  const logger: DiagLogger = {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    verbose: emit('debug'),
  };
  // WARN keeps start-up chatter out of the logs; suppressOverrideMessage avoids a warning of its own when a
  // test process starts telemetry twice.
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

// The SDK's global error handler logs a whole exception as JSON (stack included); its message is enough.
function readable(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const parsed: unknown = JSON.parse(message);
    const inner = typeof parsed === 'object' && parsed !== null ? (parsed as { message?: unknown }).message : undefined;
    return typeof inner === 'string' ? inner : message;
  } catch {
    return message;
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
