// Order mix through the REST gateway: 70 % online home delivery (WEB, card), 20 % pick-up in store (APP, card),
// 10 % store till sales carried out (POS, cash), interleaved call by call. Placed with k6 when installed (a script
// generated into a temp dir, each order's body and key prepared here), else with the Node load generator. Reports
// throughput and latency per kind and overall, errors, and how many orders reached their successful status
// (polled at the end, after every outbox drained).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OrderStatus } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { type Kind, KINDS, orderBody, placeRest, SUCCESS_STATUS } from '../orders-rest';
import { type LoadStats, log, runLoad, ticker } from '../progress';
import { latencyCells, outcomeText, type ScenarioResult, table } from '../report';
import { issueKey, receive, seedSkus, STORES, WAREHOUSE } from '../seed';
import { settings } from '../settings';
import type { System } from '../system';
import { runTool, toolNotes, toolPath, toolVersion } from '../tools';
import { summary } from './ceilings';

const CALL = { deadlineMs: 30_000 };
const SKU_COUNT = 20;
const UNITS = 1_000_000;
const SHOPPERS = 8;

/** The kind of the i-th order: 7 in 10 home delivery, 2 pick-up, 1 POS, spread evenly. */
export function kindOf(i: number): Kind {
  const r = i % 10;
  return r === 3 || r === 7 ? 'pickup' : r === 9 ? 'pos' : 'delivery';
}

interface Prepared {
  kind: Kind;
  key: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
  expect: string;
}

async function prepare(sys: System): Promise<Prepared[]> {
  const skus = Array.from({ length: SKU_COUNT }, (_, i) =>
    `MIX-${sys.run}-${String(i).padStart(2, '0')}`.toUpperCase(),
  );
  await seedSkus(sys, skus, 'Mix tea');
  for (const sku of skus) for (const location of [WAREHOUSE, ...STORES]) await receive(sys, sku, location, UNITS);
  const shoppers: string[] = [];
  for (let k = 0; k < SHOPPERS; k++)
    shoppers.push(await issueKey(sys, { role: 'shopper', subject: `mix-shopper-${sys.run}-${k}` }));
  const staff = await Promise.all(
    STORES.map(async (store, k) => {
      const subject = `mix-associate-${sys.run}-${k}`;
      return { store, subject, key: await issueKey(sys, { role: 'staff', subject, storeIds: [store] }) };
    }),
  );
  return Array.from({ length: settings.mix.orders }, (_, i) => {
    const kind = kindOf(i);
    const n = 1 + (i % 3);
    const lines = Array.from({ length: n }, (_, k) => ({
      skuCode: skus[(i * 7 + k * 6) % skus.length]!,
      quantity: 1 + ((i + k) % 2),
    }));
    const till = staff[i % staff.length]!;
    return {
      kind,
      key: kind === 'pos' ? till.key : shoppers[i % shoppers.length]!,
      idempotencyKey: `mix-${sys.run}-${i}`,
      body: orderBody(kind, lines, { storeId: till.store, associateId: till.subject }),
      expect: SUCCESS_STATUS[kind],
    };
  });
}

/** One placed order as either load generator saw it. */
interface Sample {
  kind: Kind;
  ms: number;
  /** ok, an order status other than the expected one, or error. */
  outcome: string;
  orderId?: string;
}

async function withNode(
  sys: System,
  prepared: Prepared[],
): Promise<{ samples: Sample[]; seconds: number; stats: LoadStats }> {
  const ids = new Map<number, string>();
  const stats = await runLoad(
    'order mix (Node)',
    { total: prepared.length, concurrency: settings.mix.concurrency, maxSeconds: settings.mix.maxSeconds },
    async (i) => {
      const p = prepared[i]!;
      const answer = await placeRest(sys, p.key, p.idempotencyKey, p.body, p.expect, `${i}`);
      if (answer.order) ids.set(i, answer.order.id);
      return answer;
    },
  );
  const samples = stats.samples.map((s) => {
    const i = Number(s.tag);
    const id = ids.get(i);
    return { kind: prepared[i]!.kind, ms: s.ms, outcome: s.outcome, ...(id ? { orderId: id } : {}) };
  });
  return { samples, seconds: stats.seconds, stats };
}

const K6_SCRIPT = `import http from 'k6/http';
import exec from 'k6/execution';
import { Trend } from 'k6/metrics';

const orders = JSON.parse(open('./orders.json'));
const base = __ENV.BASE_URL;
const placed = new Trend('order_ms', true);

export const options = {
  discardResponseBodies: false,
  scenarios: {
    mix: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS),
      iterations: orders.length,
      maxDuration: __ENV.MAX_DURATION,
    },
  },
};

export default function () {
  const i = exec.scenario.iterationInTest;
  const o = orders[i];
  const res = http.post(base + '/v1/orders', JSON.stringify(o.body), {
    headers: { 'content-type': 'application/json', 'x-api-key': o.key, 'idempotency-key': o.idempotencyKey },
    timeout: '320s',
    tags: { kind: o.kind },
  });
  let outcome = 'error';
  let id = '';
  if (res.status === 201) {
    const order = res.json('order');
    id = order.id;
    outcome = order.status === o.expect ? 'ok' : order.status.replace('ORDER_STATUS_', '');
  } else if (res.status === 0) {
    outcome = 'error';
  }
  placed.add(res.timings.duration, { kind: o.kind, outcome: outcome, order: id, status: String(res.status) });
}
`;

async function withK6(
  sys: System,
  k6: string,
  prepared: Prepared[],
): Promise<{ samples: Sample[]; seconds: number; version: string; errorsByStatus: Record<string, number> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-k6-'));
  try {
    writeFileSync(path.join(dir, 'script.js'), K6_SCRIPT);
    writeFileSync(path.join(dir, 'orders.json'), JSON.stringify(prepared));
    const points = path.join(dir, 'points.json');
    const version = await toolVersion(k6).catch(() => 'k6');
    toolNotes.push(`${version} for the order mix`);
    log(`order mix: k6 (${version}), ${prepared.length} orders, ${settings.mix.concurrency} VUs`);
    const count = () => {
      try {
        if (statSync(points).size === 0) return { done: 0, errors: 0, other: 0 };
        const text = readFileSync(points, 'utf8');
        const lines = text.split('\n').filter((l) => l.includes('"metric":"order_ms"') && l.includes('"type":"Point"'));
        const errors = lines.filter((l) => l.includes('"outcome":"error"')).length;
        const other = lines.filter((l) => !l.includes('"outcome":"ok"') && !l.includes('"outcome":"error"')).length;
        return { done: lines.length, errors, other };
      } catch {
        return { done: 0, errors: 0, other: 0 };
      }
    };
    const progress = ticker('order mix (k6)', prepared.length, count);
    const started = process.hrtime.bigint();
    let result;
    try {
      result = await runTool(
        k6,
        ['run', '--no-usage-report', '--quiet', '--no-summary', '--out', `json=${points}`, path.join(dir, 'script.js')],
        {
          timeoutMs: (settings.mix.maxSeconds + 180) * 1000,
          cwd: dir,
          env: {
            ...process.env,
            BASE_URL: sys.gatewayUrl,
            VUS: String(settings.mix.concurrency),
            MAX_DURATION: `${settings.mix.maxSeconds}s`,
            K6_NO_USAGE_REPORT: 'true',
          },
        },
      );
    } finally {
      progress.stop();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.code !== 0) throw new Error(`k6 exited with ${result.code}: ${result.stderr.slice(-2000)}`);
    const samples: Sample[] = [];
    const errorsByStatus: Record<string, number> = {};
    for (const line of readFileSync(points, 'utf8').split('\n')) {
      if (!line.includes('"metric":"order_ms"') || !line.includes('"type":"Point"')) continue;
      const point = JSON.parse(line) as { data: { value: number; tags: Record<string, string> } };
      const tags = point.data.tags;
      samples.push({
        kind: tags.kind as Kind,
        ms: point.data.value,
        outcome: tags.outcome ?? 'error',
        ...(tags.order ? { orderId: tags.order } : {}),
      });
      if (tags.outcome === 'error') errorsByStatus[tags.status ?? '?'] = (errorsByStatus[tags.status ?? '?'] ?? 0) + 1;
    }
    log(`order mix (k6): ${samples.length} orders in ${seconds.toFixed(1)} s (k6's own start-up included)`);
    return { samples, seconds, version, errorsByStatus };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the mix and polls every order it placed. */
export async function orderMix(sys: System): Promise<ScenarioResult> {
  const prepared = await prepare(sys);
  await sys.drain();
  const k6 = toolPath('k6');
  let samples: Sample[];
  let seconds: number;
  let how = '';
  let extra: unknown;
  let k6Failed: string | undefined;
  if (k6) {
    try {
      const r = await withK6(sys, k6, prepared);
      ({ samples, seconds } = r);
      how = `k6 (${r.version}), ${settings.mix.concurrency} VUs, shared iterations`;
      extra = { errorsByStatus: r.errorsByStatus };
    } catch (error) {
      k6Failed = error instanceof Error ? error.message : String(error);
    }
  }
  if (k6Failed) {
    const note = `k6 failed (${k6Failed.slice(0, 300)}): the order mix was placed with the Node load generator`;
    toolNotes.push(note);
    log(note);
  }
  // Orders k6 did not place (it failed before starting) are placed by Node with fresh idempotency keys.
  if (!k6 || k6Failed) {
    const r = await withNode(
      sys,
      prepared.map((p) => ({ ...p, idempotencyKey: `${p.idempotencyKey}-node` })),
    );
    ({ samples, seconds } = r);
    how = `Node (node:http keep-alive), ${settings.mix.concurrency} callers`;
    extra = { stats: summary(r.stats) };
  }
  samples = samples!;
  seconds = seconds!;

  // ---- afterwards: every order's final status, once every outbox drained ----
  const drainSeconds = await sys.drain();
  const final: Record<Kind, Record<string, number>> = { delivery: {}, pickup: {}, pos: {} };
  for (const s of samples) {
    if (!s.orderId) continue;
    const { order } = await sys.orders.getOrder({ orderId: s.orderId }, CALL);
    const name = (OrderStatus[order?.status ?? 0] ?? 'UNKNOWN').replace('ORDER_STATUS_', '');
    final[s.kind][name] = (final[s.kind][name] ?? 0) + 1;
  }
  const label: Record<Kind, string> = {
    delivery: 'online home delivery (WEB, card)',
    pickup: 'pick-up in store (APP, card)',
    pos: 'POS carry-out (cash)',
  };
  const rows = [...KINDS.map((k) => [k, samples.filter((s) => s.kind === k)] as const), ['all', samples] as const].map(
    ([k, list]) => {
      const ok = list.filter((s) => s.outcome === 'ok').length;
      const errors = list.filter((s) => s.outcome === 'error').length;
      const others: Record<string, number> = {};
      for (const s of list)
        if (s.outcome !== 'ok' && s.outcome !== 'error') others[s.outcome] = (others[s.outcome] ?? 0) + 1;
      const finals: Record<string, number> = {};
      for (const kind of k === 'all' ? KINDS : [k])
        for (const [st, n] of Object.entries(final[kind])) finals[st] = (finals[st] ?? 0) + n;
      const success =
        k === 'all'
          ? (finals.CONFIRMED ?? 0) + (final.pos.COMPLETED ?? 0)
          : (finals[SUCCESS_STATUS[k].replace('ORDER_STATUS_', '')] ?? 0);
      return [
        k === 'all' ? '**all**' : label[k],
        list.length,
        (ok / seconds).toFixed(2),
        ...latencyCells(list.map((s) => s.ms)),
        errors,
        outcomeText(others),
        `${success} / ${list.length}`,
        outcomeText(finals),
      ];
    },
  );
  const markdown = `Placed with ${how}; ${samples.length} of ${prepared.length} orders${samples.length < prepared.length ? ` (no new order after BENCH_MIX_MAX_SECONDS=${settings.mix.maxSeconds})` : ''}, ${(samples.length / seconds).toFixed(2)} orders/s over ${seconds.toFixed(1)} s; outboxes drained ${Number.isFinite(drainSeconds) ? `${drainSeconds.toFixed(1)} s` : 'not within 300 s'} after the last answer.

${table(
  [
    'kind',
    'orders',
    'ok/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    'errors',
    'other answers',
    'reached CONFIRMED (POS: COMPLETED), polled',
    'final statuses',
  ],
  rows,
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'l'],
)}`;
  const errors = samples.filter((s) => s.outcome === 'error').length;
  return {
    title: 'Order mix: 70 % home delivery, 20 % pick-up in store, 10 % POS carry-out',
    markdown,
    failures: samples.length === 0 ? ['no order was placed'] : [],
    json: { how, seconds, orders: samples.length, errors, final, drainSeconds, extra },
  };
}
