// Partner webhook throughput: a partner subscribes over REST (POST /v1/webhooks/subscriptions) with a loopback
// receiver, places N marketplace orders through the gateway, and the receiver records every delivery: its signature
// checked with the gateway's own verifyWebhookSignature, the CloudEvent's time against the receipt (event →
// delivery latency), duplicates by webhook-id. Reports deliveries per second and latency percentiles.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Channel } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { orderBody, placeRest } from '../orders-rest';
import { log, percentiles, runLoad, ticker } from '../progress';
import { latencyCells, outcomeText, type ScenarioResult, table } from '../report';
import { issueKey, receive, seedSkus, WAREHOUSE } from '../seed';
import { settings } from '../settings';
import { REPO, type System } from '../system';
import { summary } from './ceilings';

export type Verify = (options: { secrets: string[]; header: string | undefined; body: Buffer | string }) => {
  ok: boolean;
  reason?: string;
};

/**
 * The gateway's verifyWebhookSignature (services/gateway/src/webhooks/signing.ts), loaded from its build: the same
 * check the integration tests' receiver makes. (A runtime import: @o2o/system does not depend on @o2o/gateway.)
 */
async function loadVerify(): Promise<Verify> {
  const file = path.join(REPO, 'services', 'gateway', 'dist', 'webhooks', 'signing.js');
  const module = (await import(pathToFileURL(file).href)) as {
    verifyWebhookSignature?: Verify;
    default?: { verifyWebhookSignature?: Verify };
  };
  const verify = module.verifyWebhookSignature ?? module.default?.verifyWebhookSignature;
  if (!verify) throw new Error(`${file} exports no verifyWebhookSignature`);
  return verify;
}

/** One webhook request as the partner's receiver got it. */
export interface Delivery {
  id: string;
  type: string;
  orderId: string;
  /** The order's version, for orders events (they carry the order). */
  version?: number;
  verified: boolean;
  reason?: string;
  latencyMs: number;
  receivedAt: number;
}

/**
 * A partner's webhook endpoint on loopback (the caller listens): checks each request's signature with the secret it is
 * given, answers 204 and records what arrived. The fault suite's partner uses it too.
 */
export function webhookReceiver(verify: Verify) {
  const log: Delivery[] = [];
  let secret = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = Date.now();
      const body = Buffer.concat(chunks);
      const header = req.headers['o2o-signature'];
      const check = verify({ secrets: [secret], header: typeof header === 'string' ? header : undefined, body });
      res.writeHead(204).end();
      try {
        const event = JSON.parse(body.toString('utf8')) as {
          id: string;
          type: string;
          time: string;
          data?: { order?: { id?: string; version?: string } };
        };
        const version = event.data?.order?.version;
        log.push({
          id: event.id,
          type: event.type,
          // Orders events carry the order; payments and delivery events name it (payment.orderId, ref.orderId, …).
          orderId: event.data?.order?.id ?? /"orderId":"([^"]+)"/.exec(body.toString('utf8'))?.[1] ?? '',
          ...(version === undefined ? {} : { version: Number(version) }),
          verified: check.ok,
          ...(check.reason ? { reason: check.reason } : {}),
          latencyMs: receivedAt - Date.parse(event.time),
          receivedAt,
        });
      } catch {
        log.push({ id: '', type: 'unparseable', orderId: '', verified: check.ok, latencyMs: NaN, receivedAt });
      }
    });
  });
  return {
    log,
    server,
    setSecret: (s: string) => (secret = s),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/o2o/events`,
  };
}

/** Subscribes, places the orders, waits for their events to arrive, and checks every delivery. */
export async function webhookThroughput(sys: System): Promise<ScenarioResult> {
  const verify = await loadVerify();
  const sku = `HOOK-${sys.run}`.toUpperCase();
  await seedSkus(sys, [sku], 'Webhook tea');
  await receive(sys, sku, WAREHOUSE, 1_000_000);
  const partner = `bench-partner-${sys.run}`;
  const key = await issueKey(sys, { role: 'partner', subject: partner });
  const r = webhookReceiver(verify);
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  try {
    const eventTypes = ['o2o.orders.v1.*', 'o2o.payments.v1.*', 'o2o.delivery.v1.*'];
    const created = await sys.http.json<{ subscription: { id: string }; secret: string }>(
      'POST',
      '/v1/webhooks/subscriptions',
      { 'x-api-key': key },
      { url: r.url(), eventTypes, description: 'system benchmark receiver' },
      201,
    );
    r.setSecret(created.secret);
    // A subscription is seen by the dispatcher within WEBHOOK_CACHE_REFRESH_MS (5 s); events before that are not sent.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await sys.drain();
    const n = settings.webhooks.orders;
    log(`webhooks: subscription ${created.subscription.id} → ${r.url()}; placing ${n} marketplace orders`);
    const placedIds: string[] = [];
    const placing = await runLoad(
      'webhooks: placing marketplace orders',
      { total: n, concurrency: settings.webhooks.concurrency, maxSeconds: settings.webhooks.maxSeconds },
      async (i) => {
        const body = {
          ...orderBody('delivery', [{ skuCode: sku, quantity: 1 + (i % 2) }], { storeId: '', associateId: '' }),
          channel: Channel[Channel.CHANNEL_MARKETPLACE],
          customerId: `mp-buyer-${sys.run}-${i}`,
          marketplace: { externalOrderId: `EXT-${sys.run}-${i}` },
        };
        const answer = await placeRest(
          sys,
          key,
          `hook-${sys.run}-${i}-${randomUUID().slice(0, 8)}`,
          body,
          'ORDER_STATUS_CONFIRMED',
        );
        if (answer.order) placedIds.push(answer.order.id);
        return answer;
      },
    );
    const placedAt = Date.now();
    // Wait until every order's OrderConfirmed arrived and nothing new came for 5 s (at most BENCH_WEBHOOK_WAIT_SECONDS).
    const progress = ticker('webhooks: deliveries received', undefined, () => ({
      done: r.log.length,
      errors: r.log.filter((d) => !d.verified).length,
      other: 0,
    }));
    try {
      const confirmedOf = () =>
        new Set(r.log.filter((d) => d.type === 'o2o.orders.v1.OrderConfirmed').map((d) => d.orderId));
      for (;;) {
        const seen = r.log.length;
        await new Promise((resolve) => setTimeout(resolve, 5000));
        const all = placedIds.every((id) => confirmedOf().has(id));
        if ((all && r.log.length === seen) || Date.now() - placedAt > settings.webhooks.waitSeconds * 1000) break;
      }
    } finally {
      progress.stop();
    }
    const deliveries = r.log;
    const byId = new Map<string, number>();
    for (const d of deliveries) byId.set(d.id, (byId.get(d.id) ?? 0) + 1);
    const duplicates = [...byId.values()].reduce((n, c) => n + c - 1, 0);
    const verified = deliveries.filter((d) => d.verified).length;
    const confirmedDelivered = new Set(
      deliveries.filter((d) => d.type === 'o2o.orders.v1.OrderConfirmed').map((d) => d.orderId),
    );
    const missing = placedIds.filter((id) => !confirmedDelivered.has(id)).length;
    const foreign = deliveries.filter(
      (d) => d.orderId && !placedIds.includes(d.orderId) && d.type !== 'unparseable',
    ).length;
    const first = Math.min(...deliveries.map((d) => d.receivedAt));
    const last = Math.max(...deliveries.map((d) => d.receivedAt));
    const window = (last - first) / 1000;
    const byType: Record<string, number> = {};
    for (const d of deliveries) byType[d.type.replace(/^o2o\./, '')] = (byType[d.type.replace(/^o2o\./, '')] ?? 0) + 1;
    const types = Object.keys(byType).sort();
    const latencyRows = [
      ...types.map((t) => {
        const list = deliveries.filter((d) => d.type.replace(/^o2o\./, '') === t).map((d) => d.latencyMs);
        return [t, list.length, ...latencyCells(list)];
      }),
      ['**all**', deliveries.length, ...latencyCells(deliveries.map((d) => d.latencyMs))],
    ];
    const failures: string[] = [];
    if (verified !== deliveries.length)
      failures.push(`${deliveries.length - verified} deliveries failed the signature check`);
    // Late is a figure, not a failure: at-least-once delivery promises no time (the table shows how many were late).
    if (foreign > 0) failures.push(`${foreign} deliveries of orders this partner did not place`);
    const p = percentiles(deliveries.map((d) => d.latencyMs));
    log(
      `webhooks: ${deliveries.length} deliveries, ${(deliveries.length / window).toFixed(1)}/s, p50 ${p.p50.toFixed(0)} ms, verified ${verified}, duplicates ${duplicates}`,
    );
    const markdown = `A partner key subscribed to \`${eventTypes.join('`, `')}\` with a loopback receiver (answers 204 at once), then placed ${n} MARKETPLACE orders (home delivery, card) through the gateway at concurrency ${settings.webhooks.concurrency}. Latency: the CloudEvent's \`time\` (when the service recorded the event) → the receiver read the request (both this machine's wall clock, ms). Gateway webhook settings at their defaults (WEBHOOK_CONCURRENCY 16, WEBHOOK_POLL_INTERVAL_MS 1000).

${table(
  [
    'orders placed',
    'placed/s',
    'placement p50 / p99 ms',
    'placement errors',
    'deliveries',
    'deliveries/s (first → last delivery)',
    'signature verified',
    'duplicates (same webhook-id)',
    `orders whose OrderConfirmed had not come ${settings.webhooks.waitSeconds} s after the last order`,
    'deliveries of other orders',
  ],
  [
    [
      `${placing.ok} / ${n}`,
      (placing.ok / placing.seconds).toFixed(2),
      `${latencyCells(placing.samples.map((s) => s.ms)).slice(0, 1)[0]} / ${latencyCells(placing.samples.map((s) => s.ms))[2]}`,
      `${placing.errors}${Object.keys(placing.outcomes).length ? `, ${outcomeText(placing.outcomes)}` : ''}`,
      deliveries.length,
      (deliveries.length / window).toFixed(1),
      `${verified} / ${deliveries.length}`,
      duplicates,
      missing,
      foreign,
    ],
  ],
)}

${table(['event type', 'deliveries', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], latencyRows)}`;
    return {
      title: 'Partner webhooks: deliveries of N marketplace orders’ events',
      markdown,
      failures,
      json: {
        placing: summary(placing),
        deliveries: deliveries.length,
        perSecond: deliveries.length / window,
        latency: p,
        verified,
        duplicates,
        missing,
        foreign,
        byType,
      },
    };
  } finally {
    r.server.closeAllConnections();
    await new Promise((resolve) => r.server.close(resolve));
  }
}
