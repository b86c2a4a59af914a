// Crash safety: placements run under load while the orders process is killed with SIGKILL and restarted. Some
// clients retry a failed call with the same request id (as a frontend would), others give up, so the recovery
// loop must finish their orders alone. Afterwards every order is final or correctly waiting, every hold and every
// authorisation is accounted for, and no order has money taken twice.
import { randomUUID } from 'node:crypto';
import { HoldStatus } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import {
  Channel,
  type Order,
  OrderStatus,
  PaymentMethod,
  type PlaceOrderRequest,
  WalletChannel,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { PaymentStatus } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { waitFor } from '@o2o/kit-testing';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { LOCATIONS, type SkuSpec, startSystem, type System } from './system';

const CLIENTS = 8;
const PLACEMENTS_PER_CLIENT = 12;
const STOCK_PER_SKU = 200;

let sys: System;
const skus: SkuSpec[] = ['CRASH-A', 'CRASH-B', 'CRASH-C'].map((label, i) => ({
  code: `${label}-${randomUUID().slice(0, 8)}`,
  online: 1000 + i * 250,
  store: 1100 + i * 250,
}));

beforeAll(async () => {
  // A long wallet deadline: wallet orders must still be waiting when the invariants are checked.
  sys = await startSystem({ env: { orders: { WALLET_PAY_TTL_MS: '600000' } } });
  await sys.createLocations();
  await sys.createProduct('Crash-test tea', skus);
  for (const s of skus) await sys.receive(s.code, LOCATIONS.warehouse, STOCK_PER_SKU);
}, 180_000);

afterAll(async () => {
  await sys?.stop();
});

/** Client `c`'s i-th placement: mostly approved cards, some wallets, some declined cards; 1–3 lines. */
function request(c: number, i: number): PlaceOrderRequest {
  const kind = (c * 7 + i) % 10;
  const wallet = kind === 7 || kind === 8;
  const lines = skus.slice(0, 1 + ((c + i) % 3)).map((s, n) => ({ skuCode: s.code, quantity: 1 + ((i + n) % 2) }));
  const placement = { requestId: randomUUID(), customerId: `crash-customer-${c}-${sys.prefix}`, lines };
  if (wallet) {
    return homeDeliveryOrder(placement, {
      channel: Channel.CHANNEL_APP,
      payment: {
        method: PaymentMethod.PAYMENT_METHOD_WALLET_QR,
        card: undefined,
        walletChannel: WalletChannel.WALLET_CHANNEL_WECHAT_PAY,
        terminalId: '',
      },
    });
  }
  if (kind === 9) {
    const declined = {
      method: PaymentMethod.PAYMENT_METHOD_CARD,
      card: { number: '4000000000009995' },
      walletChannel: 0,
      terminalId: '',
    };
    return homeDeliveryOrder(placement, { payment: declined });
  }
  return homeDeliveryOrder(placement);
}

const SETTLED = new Set([
  OrderStatus.ORDER_STATUS_CONFIRMED,
  OrderStatus.ORDER_STATUS_REJECTED,
  OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
]);

it('kill -9 of orders mid-placement: every order settles, nothing orphaned, nothing charged twice', async () => {
  const outcome = { answered: 0, failed: 0, retried: 0, abandoned: 0 };
  let started = 0;
  let killed: Promise<void> | undefined;
  const client = async (c: number) => {
    for (let i = 0; i < PLACEMENTS_PER_CLIENT; i++) {
      const req = request(c, i);
      started += 1;
      // After a quarter of the placements began, kill the orders process mid-saga and bring it back a second later.
      if (started === Math.floor((CLIENTS * PLACEMENTS_PER_CLIENT) / 4)) {
        killed = (async () => {
          await sys.kill9('orders');
          await new Promise((r) => setTimeout(r, 1000));
          await sys.start('orders');
        })();
        // Awaited after the load; a failure to restart must not surface as an unhandled rejection meanwhile.
        killed.catch(() => undefined);
      }
      try {
        await sys.orders.placeOrder(req);
        outcome.answered += 1;
      } catch (error) {
        outcome.failed += 1;
        // Odd clients retry with the same request id once the service answers again; even ones give up.
        if (c % 2 === 1) {
          outcome.retried += 1;
          await waitFor(
            async () =>
              (await sys.orders.placeOrder(req).then(
                () => true,
                () => false,
              )) || undefined,
            {
              timeoutMs: 30_000,
              intervalMs: 250,
            },
          );
        } else {
          outcome.abandoned += 1;
          expect([14, 4, 1]).toContain((error as { code?: number }).code); // UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED: the crash
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  await killed;
  expect(outcome.failed).toBeGreaterThan(0); // the kill did hit calls in flight

  // Every order of every customer settles: final, or waiting for a wallet payment, with no work left.
  const orders: Order[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const customerId = `crash-customer-${c}-${sys.prefix}`;
    const mine = await waitFor(
      async () => {
        const list = (
          await sys.orders.listOrders({
            customerId,
            page: { pageSize: 200, pageToken: '' },
            statuses: [],
            channel: 0,
            storeId: '',
            placedAfter: undefined,
            placedBefore: undefined,
            partnerId: '',
          })
        ).orders;
        return list.every((o) => SETTLED.has(o.status) && !o.settling) ? list : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    orders.push(...mine);
  }
  expect(orders.length).toBeGreaterThan(CLIENTS * PLACEMENTS_PER_CLIENT - outcome.abandoned - 1);
  expect(orders.length).toBeLessThanOrEqual(CLIENTS * PLACEMENTS_PER_CLIENT);

  // Holds: ACTIVE exactly for orders that still need the stock; stock held equals what those orders hold.
  const heldByOrders = new Map<string, number>();
  for (const order of orders) {
    const live = order.status !== OrderStatus.ORDER_STATUS_REJECTED;
    for (const group of order.groups) {
      const hold = await sys.inventory.getHold({ holdId: group.holdId }).then(
        (r) => r.hold,
        () => undefined,
      );
      if (live) {
        expect(hold?.status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
        for (const item of group.items) {
          const key = `${item.skuCode}@${group.locationId}`;
          heldByOrders.set(key, (heldByOrders.get(key) ?? 0) + Number(item.quantity));
        }
      } else if (hold) {
        expect(hold.status).not.toBe(HoldStatus.HOLD_STATUS_ACTIVE);
        expect(hold.status).not.toBe(HoldStatus.HOLD_STATUS_PENDING);
      }
    }
  }
  for (const s of skus) {
    const stock = await sys.stock(s.code, LOCATIONS.warehouse);
    expect(Number(stock.held)).toBe(heldByOrders.get(`${s.code}@${LOCATIONS.warehouse}`) ?? 0);
    expect(Number(stock.onHand)).toBe(STOCK_PER_SKU);
  }

  // Payments: one live payment per live order, for its total; nothing left authorised for a rejected order.
  for (const order of orders) {
    const payments = (await sys.payments.listPayments({ orderId: order.id, page: undefined })).payments;
    const live = payments.filter((p) =>
      [PaymentStatus.PAYMENT_STATUS_AUTHORIZED, PaymentStatus.PAYMENT_STATUS_PENDING].includes(p.status),
    );
    const capturable = payments.filter((p) => Number(p.capturableAmount?.amountMinor ?? '0') > 0);
    if (order.status === OrderStatus.ORDER_STATUS_REJECTED) {
      expect(live).toEqual([]);
      expect(capturable).toEqual([]);
    } else {
      expect(live).toHaveLength(1);
      expect(live[0]!.id).toBe(order.payment!.paymentId);
      expect(live[0]!.amount).toEqual(order.total);
    }
    expect(payments.filter((p) => p.status === PaymentStatus.PAYMENT_STATUS_CAPTURED)).toEqual([]);
  }
  // Shown in the test output: what the crash did.
  const byStatus = orders.reduce<Record<string, number>>(
    (m, o) => ({ ...m, [OrderStatus[o.status]]: (m[OrderStatus[o.status]] ?? 0) + 1 }),
    {},
  );
  // Orders whose placement call never answered (cut by the kill and not retried): finished by the recovery loop.
  const finishedByRecovery = orders.length - outcome.answered - outcome.retried;
  console.log(JSON.stringify({ ...outcome, orders: orders.length, finishedByRecovery, byStatus }));
}, 240_000);
