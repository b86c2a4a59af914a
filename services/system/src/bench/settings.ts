// The suite's settings: every knob is an environment variable, parsed once here and listed in the report with its
// value, so a figure can always be traced to the run that produced it.

/** The scenarios in the order they run. */
// The flash sale runs first, on empty collections: after the order mix, on this 2-core machine, its 1000 sagas at once
// outlived the orders service's placement timeout (docs/benchmarks.md, "The whole system").
export const SCENARIOS = ['ceilings', 'flash', 'mix', 'tracking', 'webhooks'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${raw}: expected a number ≥ 0`);
  return value;
}

function list(name: string, fallback: string): number[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const v = Number(s);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: "${s}" is not a positive integer`);
      return v;
    });
}

const SCALE = num('BENCH_SCALE', 1);
/** A count scaled by BENCH_SCALE, at least 1. */
const scaled = (name: string, base: number) => Math.max(1, Math.round(num(name, base * SCALE)));

function scenarios(): ScenarioName[] {
  const raw = process.env.BENCH_SCENARIOS;
  if (!raw) return [...SCENARIOS];
  const wanted = raw.split(',').map((s) => s.trim());
  for (const s of wanted)
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`BENCH_SCENARIOS: unknown scenario "${s}" (known: ${SCENARIOS.join(', ')})`);
  return SCENARIOS.filter((s) => wanted.includes(s));
}

/** The parsed settings of this run. */
export const settings = Object.freeze({
  scale: SCALE,
  scenarios: scenarios(),
  mongoUrl: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017',
  kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  /** Where the local infrastructure keeps its pid files (scripts/infra.sh). */
  stateDir: process.env.O2O_STATE_DIR,
  cacheDir: process.env.O2O_CACHE_DIR,
  /** Use ghz and k6 when installed (scripts/tools.sh); 0 measures everything with the Node load generator. */
  useTools: num('BENCH_TOOLS', 1) !== 0,
  noWrite: process.env.BENCH_NO_WRITE === '1',
  docsFile: process.env.BENCH_DOCS_FILE,
  progressSeconds: num('BENCH_PROGRESS_SECONDS', 5),
  mix: {
    orders: scaled('BENCH_MIX_ORDERS', 400),
    concurrency: Math.max(1, num('BENCH_MIX_CONCURRENCY', 16)),
    maxSeconds: num('BENCH_MIX_MAX_SECONDS', 150),
  },
  flash: {
    units: scaled('BENCH_FLASH_UNITS', 100),
    /** Buyers per unit: 10 × U buyers of one unit each. */
    buyersPerUnit: Math.max(1, num('BENCH_FLASH_BUYERS_PER_UNIT', 10)),
    /** Buyers in flight at once (default: all of them). */
    concurrency: num('BENCH_FLASH_CONCURRENCY', 0),
    maxSeconds: num('BENCH_FLASH_MAX_SECONDS', 240),
  },
  tracking: {
    watchers: list('BENCH_TRACKING_WATCHERS', '10,100,500'),
    sseWatchers: num('BENCH_TRACKING_SSE_WATCHERS', 20),
    rate: Math.max(1, num('BENCH_TRACKING_RATE', 10)),
    seconds: Math.max(1, num('BENCH_TRACKING_SECONDS', 10)),
  },
  webhooks: {
    orders: scaled('BENCH_WEBHOOK_ORDERS', 40),
    concurrency: Math.max(1, num('BENCH_WEBHOOK_CONCURRENCY', 8)),
    maxSeconds: num('BENCH_WEBHOOK_MAX_SECONDS', 120),
    /** How long after the last order the receiver waits for the last events. */
    waitSeconds: num('BENCH_WEBHOOK_WAIT_SECONDS', 120),
  },
  ceilings: {
    seconds: Math.max(1, num('BENCH_CEILING_SECONDS', 10)),
    /** The concurrency of the raw Kafka, database and gRPC loads (the order mix's, unless set). */
    concurrency: Math.max(1, num('BENCH_CEILING_CONCURRENCY', num('BENCH_MIX_CONCURRENCY', 16))),
    maxOps: scaled('BENCH_CEILING_MAX_OPS', 200_000),
    /** 0: the size of an encoded OrderConfirmed of a three-line order. */
    messageBytes: num('BENCH_KAFKA_MESSAGE_BYTES', 0),
  },
});

export type Settings = typeof settings;

/** Every knob with its value as this run used it (for the report). */
export function settingsRows(): [string, string][] {
  const s = settings;
  return [
    ['BENCH_SCENARIOS', s.scenarios.join(',')],
    ['BENCH_SCALE', String(s.scale)],
    ['BENCH_MIX_ORDERS', String(s.mix.orders)],
    ['BENCH_MIX_CONCURRENCY', String(s.mix.concurrency)],
    ['BENCH_MIX_MAX_SECONDS', String(s.mix.maxSeconds)],
    ['BENCH_FLASH_UNITS', String(s.flash.units)],
    ['BENCH_FLASH_BUYERS_PER_UNIT', String(s.flash.buyersPerUnit)],
    ['BENCH_FLASH_CONCURRENCY', s.flash.concurrency > 0 ? String(s.flash.concurrency) : '0 (all buyers at once)'],
    ['BENCH_FLASH_MAX_SECONDS', String(s.flash.maxSeconds)],
    ['BENCH_TRACKING_WATCHERS', s.tracking.watchers.join(',')],
    ['BENCH_TRACKING_SSE_WATCHERS', String(s.tracking.sseWatchers)],
    ['BENCH_TRACKING_RATE', `${s.tracking.rate} positions/s`],
    ['BENCH_TRACKING_SECONDS', String(s.tracking.seconds)],
    ['BENCH_WEBHOOK_ORDERS', String(s.webhooks.orders)],
    ['BENCH_WEBHOOK_CONCURRENCY', String(s.webhooks.concurrency)],
    ['BENCH_WEBHOOK_MAX_SECONDS', String(s.webhooks.maxSeconds)],
    ['BENCH_WEBHOOK_WAIT_SECONDS', String(s.webhooks.waitSeconds)],
    ['BENCH_CEILING_SECONDS', String(s.ceilings.seconds)],
    ['BENCH_CEILING_CONCURRENCY', String(s.ceilings.concurrency)],
    ['BENCH_CEILING_MAX_OPS', String(s.ceilings.maxOps)],
    ['BENCH_KAFKA_MESSAGE_BYTES', s.ceilings.messageBytes > 0 ? String(s.ceilings.messageBytes) : 'an OrderConfirmed'],
    ['BENCH_TOOLS', s.useTools ? '1 (ghz/k6 when installed)' : '0 (Node only)'],
    ['BENCH_PROGRESS_SECONDS', String(s.progressSeconds)],
    ['BENCH_NO_WRITE', s.noWrite ? '1' : '0'],
    ['MONGO_URL', s.mongoUrl.replace(/\/\/[^@]*@/, '//')],
    ['KAFKA_BROKERS', s.kafkaBrokers],
  ];
}
