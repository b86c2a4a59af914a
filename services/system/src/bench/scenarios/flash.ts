// Flash sale: one hot SKU with U units at one location and 10 × U buyers each ordering one unit, all at once,
// through the REST gateway. The system must sell exactly the stock: U orders CONFIRMED, every other one REJECTED
// for stock, the SKU's stock afterwards available 0 and held U (the confirmed orders' holds, ACTIVE or COMMITTED).
// Anything else fails the bench.
import { HoldStatus } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { ListOrdersRequest, type Order, OrderStatus } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { orderBody, placeRest } from '../orders-rest';
import { log, runLoad } from '../progress';
import { latencyCells, outcomeText, type ScenarioResult, table } from '../report';
import { issueKey, receive, seedSkus, WAREHOUSE } from '../seed';
import { settings } from '../settings';
import type { System } from '../system';
import { summary } from './ceilings';

const CALL = { deadlineMs: 30_000 };
const SHOPPER_KEYS = 50;

/** Runs the sale and checks its outcome. */
export async function flashSale(sys: System): Promise<ScenarioResult> {
  const units = settings.flash.units;
  const buyers = units * settings.flash.buyersPerUnit;
  const concurrency = settings.flash.concurrency > 0 ? settings.flash.concurrency : buyers;
  const sku = `FLASH-${sys.run}`.toUpperCase();
  await seedSkus(sys, [sku], 'Flash sale tea');
  await receive(sys, sku, WAREHOUSE, units);
  const keys: string[] = [];
  const customers: string[] = [];
  for (let k = 0; k < Math.min(SHOPPER_KEYS, buyers); k++) {
    customers.push(`flash-buyer-${sys.run}-${k}`);
    keys.push(await issueKey(sys, { role: 'shopper', subject: customers[k]! }));
  }
  await sys.drain();
  log(`flash sale: ${buyers} buyers, ${concurrency} at once, for ${units} units of ${sku} at ${WAREHOUSE}`);

  const body = orderBody('delivery', [{ skuCode: sku, quantity: 1 }], { storeId: '', associateId: '' });
  const placed: { id: string; answeredAt: number; status: string }[] = [];
  const started = Date.now();
  // The stock as inventory sees it, twice a second: when it reached 0 is when the sale sold out (answers come later).
  let soldOutAt: number | undefined;
  let polling = true;
  const poller = (async () => {
    while (polling && soldOutAt === undefined) {
      const { stock } = await sys.inventory
        .getStock({ skuCode: sku, locationId: WAREHOUSE }, CALL)
        .catch(() => ({ stock: undefined }));
      if (stock && Number(stock.available) === 0) soldOutAt = Date.now();
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const stats = await runLoad(
    'flash sale',
    { total: buyers, concurrency, maxSeconds: settings.flash.maxSeconds },
    async (i) => {
      const answer = await placeRest(
        sys,
        keys[i % keys.length]!,
        `flash-${sys.run}-${i}`,
        body,
        'ORDER_STATUS_CONFIRMED',
      );
      if (answer.order) placed.push({ id: answer.order.id, answeredAt: Date.now(), status: answer.order.status });
      // An order refused for stock is the expected answer to most buyers: tagged apart, not an error.
      if (!answer.ok && answer.outcome === 'REJECTED' && answer.detail?.startsWith('out of stock'))
        return { ...answer, outcome: 'REJECTED out of stock', tag: 'refused' };
      return { ...answer, tag: answer.ok ? 'accepted' : 'other' };
    },
  );
  polling = false;
  await poller;
  const stockZeroSeconds = soldOutAt === undefined ? NaN : (soldOutAt - started) / 1000;
  const confirmedAt = placed
    .filter((p) => p.status === 'ORDER_STATUS_CONFIRMED')
    .map((p) => p.answeredAt)
    .sort((a, b) => a - b);
  const soldOutSeconds = confirmedAt.length >= units ? (confirmedAt[units - 1]! - started) / 1000 : NaN;

  // ---- afterwards: every order's final status (a PENDING one finishes in the background), the stock, the holds ----
  const drainSeconds = await sys.drain();
  const finalStatus: Record<string, number> = {};
  const holds: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  // Every order of the sale's buyers, listed by customer: also those whose answer the buyer never got.
  const orders: Order[] = [];
  for (const customerId of customers) {
    let pageToken = '';
    do {
      const answer = await sys.orders.listOrders(
        ListOrdersRequest.fromPartial({ customerId, page: { pageSize: 200, pageToken } }),
        CALL,
      );
      orders.push(...answer.orders);
      pageToken = answer.page?.nextPageToken ?? '';
    } while (pageToken);
  }
  for (let order of orders) {
    for (let waited = 0; order.status === OrderStatus.ORDER_STATUS_PENDING && waited < 60; waited++) {
      await new Promise((r) => setTimeout(r, 1000));
      order = (await sys.orders.getOrder({ orderId: order.id }, CALL)).order ?? order;
    }
    const name = OrderStatus[order.status] ?? 'UNKNOWN';
    finalStatus[name] = (finalStatus[name] ?? 0) + 1;
    if (order.status === OrderStatus.ORDER_STATUS_REJECTED) {
      const reason = (order.statusReason.startsWith('out of stock') ? 'out of stock' : order.statusReason).slice(0, 80);
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    if (order.status === OrderStatus.ORDER_STATUS_CONFIRMED) {
      for (const g of order.groups) {
        const { hold } = await sys.inventory.getHold({ holdId: g.holdId }, CALL);
        const h = HoldStatus[hold?.status ?? 0] ?? 'UNKNOWN';
        holds[h] = (holds[h] ?? 0) + 1;
      }
    }
  }
  const { stock } = await sys.inventory.getStock({ skuCode: sku, locationId: WAREHOUSE }, CALL);
  const confirmed = finalStatus.ORDER_STATUS_CONFIRMED ?? 0;
  const rejected = finalStatus.ORDER_STATUS_REJECTED ?? 0;
  const holding = (holds.HOLD_STATUS_ACTIVE ?? 0) + (holds.HOLD_STATUS_COMMITTED ?? 0);
  const failures: string[] = [];
  if (confirmed > units) failures.push(`oversold: ${confirmed} orders CONFIRMED for ${units} units`);
  if (confirmed < units) failures.push(`undersold: ${confirmed} orders CONFIRMED for ${units} units`);
  if (orders.length !== buyers) failures.push(`${orders.length} orders exist for ${buyers} buyers`);
  if (confirmed + rejected !== buyers)
    failures.push(
      `${buyers - confirmed - rejected} of ${buyers} buyers ended neither CONFIRMED nor REJECTED (${outcomeText(finalStatus)})`,
    );
  const otherReasons = Object.entries(reasons).filter(([r]) => r !== 'out of stock');
  if (otherReasons.length > 0)
    failures.push(`rejected for other reasons than stock: ${otherReasons.map(([r, n]) => `${n} ${r}`).join(', ')}`);
  if (stats.errors > 0) failures.push(`${stats.errors} errors (first: ${stats.firstError?.slice(0, 200)})`);
  if (Number(stock?.available ?? -1) !== 0) failures.push(`available afterwards is ${stock?.available}, not 0`);
  if (Number(stock?.held ?? -1) + Number(units) - Number(stock?.onHand ?? 0) !== units)
    failures.push(`held ${stock?.held} and on hand ${stock?.onHand} do not account for ${units} units sold`);
  if (holding !== units) failures.push(`${holding} holds ACTIVE or COMMITTED, not ${units}`);
  const verdict =
    failures.length === 0
      ? `**PASS**: sold exactly the stock (${confirmed} CONFIRMED of ${units} units, ${rejected} REJECTED out of stock)`
      : `**FAIL**: ${failures.join('; ')}`;
  log(`flash sale: ${verdict.replace(/\*/g, '')}`);

  const of = (tag: string) => stats.samples.filter((s) => s.tag === tag).map((s) => s.ms);
  const latency = table(
    ['answers', 'calls', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    [
      ['accepted (CONFIRMED)', of('accepted').length, ...latencyCells(of('accepted'))],
      ['refused (REJECTED out of stock)', of('refused').length, ...latencyCells(of('refused'))],
      ['anything else', of('other').length, ...latencyCells(of('other'))],
      ['all', stats.calls, ...latencyCells(stats.samples.map((s) => s.ms))],
    ],
  );
  const check = table(
    ['check', 'expected', 'measured'],
    [
      ['orders of the buyers (listed by customer)', buyers, orders.length],
      ['orders CONFIRMED (final)', units, confirmed],
      ['orders REJECTED (final)', buyers - units, `${rejected} (${outcomeText(reasons)})`],
      [
        'other final statuses',
        0,
        outcomeText(
          Object.fromEntries(
            Object.entries(finalStatus).filter(
              ([k]) => !['ORDER_STATUS_CONFIRMED', 'ORDER_STATUS_REJECTED'].includes(k),
            ),
          ),
        ),
      ],
      ['errors (no order answered)', 0, stats.errors],
      [
        `stock of ${sku} at ${WAREHOUSE}: on hand / held / available`,
        `${units} / ${units} / 0`,
        `${stock?.onHand} / ${stock?.held} / ${stock?.available}`,
      ],
      ['holds of the confirmed orders ACTIVE or COMMITTED', units, `${holding} (${outcomeText(holds)})`],
    ],
    ['l', 'r', 'r'],
  );
  const markdown = `${table(
    [
      'buyers',
      'at once',
      'units',
      'wall s',
      'answers/s',
      'sold out (available 0) after s',
      'U-th CONFIRMED answer after s',
      'outbox drain after s',
    ],
    [
      [
        buyers,
        concurrency,
        units,
        stats.seconds.toFixed(1),
        (stats.calls / stats.seconds).toFixed(1),
        Number.isFinite(stockZeroSeconds) ? stockZeroSeconds.toFixed(1) : 'never',
        Number.isFinite(soldOutSeconds) ? soldOutSeconds.toFixed(1) : 'never',
        Number.isFinite(drainSeconds) ? drainSeconds.toFixed(1) : 'not within 300',
      ],
    ],
  )}

${latency}

${check}

${verdict}.`;
  return {
    title: 'Flash sale: one hot SKU, ten buyers per unit, all at once',
    markdown,
    failures,
    json: {
      units,
      buyers,
      concurrency,
      stockZeroSeconds,
      stats: summary(stats),
      soldOutSeconds,
      finalStatus,
      reasons,
      holds,
      stock,
      drainSeconds,
    },
  };
}
