// The partner example (examples/partner-consumer/consume.mjs) against the real broker: events encoded exactly as the
// services publish them (the ts-proto encoders, kit-kafka's CloudEvents headers, key = order id) go to prefixed
// topics; the example runs as its own `node` process, as a partner would run it, and its JSON lines are checked.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { descriptorSetPath } from '@o2o/contracts';
import * as deliveryEvents from '@o2o/contracts/gen/o2o/delivery/v1/events';
import * as orderEvents from '@o2o/contracts/gen/o2o/orders/v1/events';
import {
  Channel,
  FulfilmentType,
  GroupStatus,
  type Order,
  OrderStatus,
  PaymentMethod,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { toCloudEventHeaders } from '@o2o/kit-kafka';
import { type ProbedMessage, publishTo, repoRoot, testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import { Kafka, logLevel } from 'kafkajs';

const SCRIPT = path.join(repoRoot(), 'examples', 'partner-consumer', 'consume.mjs');
const ORDERS_TOPIC = 'o2o.orders.v1';
const DELIVERY_TOPIC = 'o2o.delivery.v1';
const STORE = 'store-nanjing-rd';

/** One line the example prints. */
interface PrintedEvent {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  id: string;
  type: string;
  time: string;
  subject: string;
  data: Record<string, unknown>;
}

/** The example running as a child process: what it printed so far, and how it ended. */
interface ConsumerRun {
  events: PrintedEvent[];
  reports: { level: string; msg: string; [field: string]: unknown }[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  child: ChildProcess;
}

const running = new Set<ChildProcess>();
const topicsToDelete: string[] = [];

afterEach(() => {
  for (const child of running) child.kill('SIGKILL'); // only a test that failed leaves one behind
  running.clear();
});

afterAll(async () => {
  const admin = kafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topicsToDelete }).catch(() => undefined);
  await admin.disconnect();
});

function kafka(): Kafka {
  return new Kafka({
    clientId: uniqueName('partner-test'),
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
}

/** Starts `node consume.mjs` with only the variables given (and PATH), as a partner's shell would. */
function startConsumer(env: Record<string, string>): ConsumerRun {
  const child = spawn(process.execPath, [SCRIPT], {
    cwd: repoRoot(),
    env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: testInfra().kafkaBrokers.join(','), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const run: ConsumerRun = {
    events: [],
    reports: [],
    child,
    exit: new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    ),
  };
  createInterface({ input: child.stdout }).on('line', (line) => run.events.push(JSON.parse(line) as PrintedEvent));
  createInterface({ input: child.stderr }).on('line', (line) => {
    try {
      run.reports.push(JSON.parse(line) as ConsumerRun['reports'][number]);
    } catch {
      run.reports.push({ level: 'raw', msg: line }); // not the example's own JSON: kept for the failure message
    }
  });
  return run;
}

/** Waits for the process to end by itself; fails (showing its stderr) if it does not within the time. */
async function exitOf(run: ConsumerRun, timeoutMs = 45_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`consumer did not exit; stderr:\n${run.reports.map((r) => JSON.stringify(r)).join('\n')}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Kafka message as the outbox relay sends it: key, the CloudEvents headers of kit-kafka, the protobuf value. */
function cloudEvent(
  source: '/o2o/orders' | '/o2o/delivery',
  type: string,
  orderId: string,
  value: Uint8Array,
  time: Date,
  id: string = randomUUID(),
): ProbedMessage & { id: string } {
  const headers = toCloudEventHeaders({
    id,
    type,
    source,
    subject: orderId,
    time,
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  });
  return { id, key: orderId, headers, value: Buffer.from(value) };
}

/** A marketplace order for pick-up at one store, in the given status, as the orders service maps it to protobuf. */
function order(id: string, status: OrderStatus, groupStatus: GroupStatus, updateTime: Date): Order {
  return orderEvents.OrderConfirmed.fromPartial({
    order: {
      id,
      channel: Channel.CHANNEL_MARKETPLACE,
      customerId: 'cust-7',
      storeId: STORE,
      marketplace: { partnerId: 'acme', externalOrderId: `acme-${id}` },
      lines: [
        {
          skuCode: 'TEA-1',
          quantity: '2',
          unitPrice: { currencyCode: 'CNY', amountMinor: '1295' },
          lineTotal: { currencyCode: 'CNY', amountMinor: '2590' },
          productId: 'prod-tea',
          productName: 'Longjing tea 100 g',
        },
      ],
      total: { currencyCode: 'CNY', amountMinor: '2590' },
      fulfilment: { type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP, pickupLocationId: STORE },
      groups: [
        {
          id: 'g1',
          type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
          locationId: STORE,
          items: [{ skuCode: 'TEA-1', quantity: '2' }],
          status: groupStatus,
          holdId: `${id}:g1`,
          amount: { currencyCode: 'CNY', amountMinor: '2590' },
        },
      ],
      payment: {
        method: PaymentMethod.PAYMENT_METHOD_CARD,
        paymentId: `pay-${id}`,
        authorized: { currencyCode: 'CNY', amountMinor: '2590' },
        cardLast4: '4242',
      },
      status,
      version: '3',
      createTime: new Date('2026-03-01T09:00:00.125Z'),
      updateTime,
    },
  }).order!;
}

/** Times with milliseconds, one second apart, so every event has its own. */
function clock(start: string): () => Date {
  let next = new Date(start).getTime();
  return () => new Date((next += 1_000));
}

/** Committed offset of the group per partition vs the partition's end, for every partition that has messages. */
async function commitsAndEnds(groupId: string, topics: string[]) {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const result: { topic: string; partition: number; committed: string; end: string }[] = [];
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const topic of topics) {
      for (const end of await admin.fetchTopicOffsets(topic)) {
        if (end.high === '0') continue;
        const offset = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === end.partition);
        result.push({ topic, partition: end.partition, committed: offset?.offset ?? 'none', end: end.high });
      }
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

describe('the partner example consumer (examples/partner-consumer/consume.mjs)', () => {
  it('prints every event decoded by its ce_type, in order per key, once per ce_id, skips what it cannot decode, commits, and exits after MAX_EVENTS', async () => {
    const prefix = `${uniqueName('partner')}.`;
    const ordersTopic = `${prefix}${ORDERS_TOPIC}`;
    const deliveryTopic = `${prefix}${DELIVERY_TOPIC}`;
    topicsToDelete.push(ordersTopic, deliveryTopic);
    const a = `ord-${randomUUID()}`;
    const b = `ord-${randomUUID()}`;
    const tick = clock('2026-03-01T09:00:00.250Z');
    const S = OrderStatus;
    const G = GroupStatus;

    // Order A, a pick-up, from placement to completion; order B rejected. What the orders service would encode.
    const ordersOf = {
      aPlaced: orderEvents.OrderPlaced.fromPartial({
        order: order(a, S.ORDER_STATUS_PENDING, G.GROUP_STATUS_PENDING, tick()),
      }),
      bPlaced: orderEvents.OrderPlaced.fromPartial({
        order: order(b, S.ORDER_STATUS_PENDING, G.GROUP_STATUS_PENDING, tick()),
      }),
      aConfirmed: orderEvents.OrderConfirmed.fromPartial({
        order: order(a, S.ORDER_STATUS_CONFIRMED, G.GROUP_STATUS_CONFIRMED, tick()),
      }),
      aInFulfillment: orderEvents.OrderInFulfillment.fromPartial({
        order: order(a, S.ORDER_STATUS_IN_FULFILLMENT, G.GROUP_STATUS_IN_FULFILLMENT, tick()),
        groupId: 'g1',
      }),
      bRejected: orderEvents.OrderRejected.fromPartial({
        order: order(b, S.ORDER_STATUS_REJECTED, G.GROUP_STATUS_PENDING, tick()),
        reason: 'TEA-1: out of stock at every location',
      }),
      aReady: orderEvents.OrderReadyForPickup.fromPartial({
        order: order(a, S.ORDER_STATUS_READY_FOR_PICKUP, G.GROUP_STATUS_READY_FOR_PICKUP, tick()),
        groupId: 'g1',
      }),
      aPickedUp: orderEvents.OrderPickedUp.fromPartial({
        order: order(a, S.ORDER_STATUS_PICKED_UP, G.GROUP_STATUS_PICKED_UP, tick()),
        groupId: 'g1',
      }),
      aCompleted: orderEvents.OrderCompleted.fromPartial({
        order: order(a, S.ORDER_STATUS_COMPLETED, G.GROUP_STATUS_PICKED_UP, tick()),
      }),
    };
    const ev = (type: string, orderId: string, value: Uint8Array, time: Date, id?: string) =>
      cloudEvent('/o2o/orders', `o2o.orders.v1.${type}`, orderId, value, time, id);
    const e = {
      aPlaced: ev(
        'OrderPlaced',
        a,
        orderEvents.OrderPlaced.encode(ordersOf.aPlaced).finish(),
        ordersOf.aPlaced.order!.updateTime!,
      ),
      bPlaced: ev(
        'OrderPlaced',
        b,
        orderEvents.OrderPlaced.encode(ordersOf.bPlaced).finish(),
        ordersOf.bPlaced.order!.updateTime!,
      ),
      aConfirmed: ev(
        'OrderConfirmed',
        a,
        orderEvents.OrderConfirmed.encode(ordersOf.aConfirmed).finish(),
        ordersOf.aConfirmed.order!.updateTime!,
      ),
      aInFulfillment: ev(
        'OrderInFulfillment',
        a,
        orderEvents.OrderInFulfillment.encode(ordersOf.aInFulfillment).finish(),
        ordersOf.aInFulfillment.order!.updateTime!,
      ),
      bRejected: ev(
        'OrderRejected',
        b,
        orderEvents.OrderRejected.encode(ordersOf.bRejected).finish(),
        ordersOf.bRejected.order!.updateTime!,
      ),
      aReady: ev(
        'OrderReadyForPickup',
        a,
        orderEvents.OrderReadyForPickup.encode(ordersOf.aReady).finish(),
        ordersOf.aReady.order!.updateTime!,
      ),
      aPickedUp: ev(
        'OrderPickedUp',
        a,
        orderEvents.OrderPickedUp.encode(ordersOf.aPickedUp).finish(),
        ordersOf.aPickedUp.order!.updateTime!,
      ),
      aCompleted: ev(
        'OrderCompleted',
        a,
        orderEvents.OrderCompleted.encode(ordersOf.aCompleted).finish(),
        ordersOf.aCompleted.order!.updateTime!,
      ),
    };
    // A type this consumer's descriptor set does not know (a newer producer's), in the middle of A's events.
    const unknown = ev('OrderTeleported', a, randomBytes(24), tick());
    // The relay re-sending what it had not yet removed from the outbox after a crash between the broker's ack and
    // the clean-up: the same entries (same ce_id, headers and bytes), in their order, before anything newer.
    const resend = (m: ProbedMessage): ProbedMessage => ({ key: m.key, headers: { ...m.headers }, value: m.value });
    await publishTo(ordersTopic, [
      e.aPlaced,
      e.bPlaced,
      e.aConfirmed,
      unknown,
      e.aInFulfillment,
      e.bRejected,
      resend(e.aConfirmed),
      resend(e.aInFulfillment),
      e.aReady,
      e.aPickedUp,
    ]);

    // Delivery's events for A's group, keyed by the order id too; a message without CloudEvents headers among them.
    const ref = { orderId: a, groupId: 'g1', locationId: STORE };
    const deliveryOf = {
      accepted: deliveryEvents.TaskAccepted.fromPartial({ ref, taskId: `${a}:g1`, time: tick() }),
      ready: deliveryEvents.ReadyForPickup.fromPartial({ ref, time: tick() }),
      pickedUp: deliveryEvents.PickedUp.fromPartial({ ref, shipmentId: '', time: tick() }),
    };
    const dv = (type: string, value: Uint8Array, time: Date) =>
      cloudEvent('/o2o/delivery', `o2o.delivery.v1.${type}`, a, value, time);
    const d = {
      accepted: dv(
        'TaskAccepted',
        deliveryEvents.TaskAccepted.encode(deliveryOf.accepted).finish(),
        deliveryOf.accepted.time!,
      ),
      ready: dv(
        'ReadyForPickup',
        deliveryEvents.ReadyForPickup.encode(deliveryOf.ready).finish(),
        deliveryOf.ready.time!,
      ),
      pickedUp: dv('PickedUp', deliveryEvents.PickedUp.encode(deliveryOf.pickedUp).finish(), deliveryOf.pickedUp.time!),
    };
    const bare: ProbedMessage = { key: a, headers: {}, value: Buffer.from('not a CloudEvent') };
    await publishTo(deliveryTopic, [d.accepted, bare, d.ready, d.pickedUp]);

    const groupId = uniqueName('partner-acme');
    const run = startConsumer({ GROUP_ID: groupId, TOPIC_PREFIX: prefix, MAX_EVENTS: '11' }); // TOPICS: the default
    // The last event arrives while it runs: it waits for it (reading nothing twice meanwhile), prints it and stops.
    await waitFor(() => run.events.length >= 10, { timeoutMs: 30_000, what: 'the first ten events' });
    await publishTo(ordersTopic, [e.aCompleted]);
    expect(await exitOf(run)).toEqual({ code: 0, signal: null });

    // Eleven events, each once: the re-sent OrderConfirmed and OrderInFulfillment are not printed again.
    expect(run.events).toHaveLength(11);
    expect(new Set(run.events.map((x) => x.id)).size).toBe(11);
    expect(run.events.filter((x) => x.id === e.aConfirmed.id)).toHaveLength(1);
    expect(run.events.filter((x) => x.id === e.aInFulfillment.id)).toHaveLength(1);

    // Order per key and topic kept; each key stays on one partition, offsets increasing.
    const seq = (topic: string, key: string) => run.events.filter((x) => x.topic === topic && x.key === key);
    expect(seq(ordersTopic, a).map((x) => x.type)).toEqual(
      [
        'OrderPlaced',
        'OrderConfirmed',
        'OrderInFulfillment',
        'OrderReadyForPickup',
        'OrderPickedUp',
        'OrderCompleted',
      ].map((t) => `o2o.orders.v1.${t}`),
    );
    expect(seq(ordersTopic, b).map((x) => x.type)).toEqual([
      'o2o.orders.v1.OrderPlaced',
      'o2o.orders.v1.OrderRejected',
    ]);
    expect(seq(deliveryTopic, a).map((x) => x.type)).toEqual(
      ['TaskAccepted', 'ReadyForPickup', 'PickedUp'].map((t) => `o2o.delivery.v1.${t}`),
    );
    for (const list of [seq(ordersTopic, a), seq(ordersTopic, b), seq(deliveryTopic, a)]) {
      expect(new Set(list.map((x) => x.partition)).size).toBe(1);
      const offsets = list.map((x) => BigInt(x.offset));
      expect(offsets).toEqual([...offsets].sort((p, q) => (p < q ? -1 : 1)));
    }

    // The CloudEvents attributes come from the headers; data is the canonical proto3 JSON of the value, the same
    // JSON ts-proto's generated toJSON gives for the message the service encoded.
    const expected: [ProbedMessage & { id: string }, string, unknown][] = [
      [e.aPlaced, ordersTopic, orderEvents.OrderPlaced.toJSON(ordersOf.aPlaced)],
      [e.bPlaced, ordersTopic, orderEvents.OrderPlaced.toJSON(ordersOf.bPlaced)],
      [e.aConfirmed, ordersTopic, orderEvents.OrderConfirmed.toJSON(ordersOf.aConfirmed)],
      [e.aInFulfillment, ordersTopic, orderEvents.OrderInFulfillment.toJSON(ordersOf.aInFulfillment)],
      [e.bRejected, ordersTopic, orderEvents.OrderRejected.toJSON(ordersOf.bRejected)],
      [e.aReady, ordersTopic, orderEvents.OrderReadyForPickup.toJSON(ordersOf.aReady)],
      [e.aPickedUp, ordersTopic, orderEvents.OrderPickedUp.toJSON(ordersOf.aPickedUp)],
      [e.aCompleted, ordersTopic, orderEvents.OrderCompleted.toJSON(ordersOf.aCompleted)],
      [d.accepted, deliveryTopic, deliveryEvents.TaskAccepted.toJSON(deliveryOf.accepted)],
      [d.ready, deliveryTopic, deliveryEvents.ReadyForPickup.toJSON(deliveryOf.ready)],
      [d.pickedUp, deliveryTopic, deliveryEvents.PickedUp.toJSON(deliveryOf.pickedUp)],
    ];
    for (const [message, topic, data] of expected) {
      const printed = run.events.find((x) => x.id === message.id);
      expect(printed).toMatchObject({
        topic,
        key: message.key,
        type: message.headers.ce_type,
        time: message.headers.ce_time,
        subject: message.key,
      });
      expect(printed?.data).toEqual(data);
    }
    // A few fields spelled out, as a partner reads them.
    const confirmed = run.events.find((x) => x.id === e.aConfirmed.id)!.data as { order: Record<string, unknown> };
    expect(confirmed.order).toMatchObject({
      id: a,
      channel: 'CHANNEL_MARKETPLACE',
      status: 'ORDER_STATUS_CONFIRMED',
      marketplace: { partnerId: 'acme', externalOrderId: `acme-${a}` },
      total: { currencyCode: 'CNY', amountMinor: '2590' },
      groups: [{ id: 'g1', status: 'GROUP_STATUS_CONFIRMED', locationId: STORE }],
    });
    expect(run.events.find((x) => x.id === e.bRejected.id)!.data).toMatchObject({
      reason: 'TEA-1: out of stock at every location',
    });
    expect(run.events.find((x) => x.id === d.accepted.id)!.data).toEqual({
      ref: { orderId: a, groupId: 'g1', locationId: STORE },
      taskId: `${a}:g1`,
      time: deliveryOf.accepted.time!.toISOString(),
    });
    // An empty shipment id (a pick-up by the shopper) is a default value: canonical JSON leaves it out.
    expect(run.events.find((x) => x.id === d.pickedUp.id)!.data).not.toHaveProperty('shipmentId');

    // What it skipped, it said so on stderr, and it went on. Each message was read once (the re-sent one included).
    expect(run.reports.filter((r) => r.msg.startsWith('duplicate')).map((r) => r.id)).toEqual([
      e.aConfirmed.id,
      e.aInFulfillment.id,
    ]);
    expect(run.reports.filter((r) => r.msg.startsWith('unknown event type'))).toHaveLength(1);
    expect(run.reports.filter((r) => r.msg.startsWith('not a CloudEvent'))).toHaveLength(1);
    expect(run.reports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: expect.stringMatching(/^unknown event type/),
          type: 'o2o.orders.v1.OrderTeleported',
        }),
        expect.objectContaining({ msg: expect.stringMatching(/^not a CloudEvent/), topic: deliveryTopic }),
        expect.objectContaining({ msg: 'stopped', printed: 11 }),
      ]),
    );

    // Committed after processing: every partition's committed offset is its end, skipped messages included.
    const positions = await commitsAndEnds(groupId, [ordersTopic, deliveryTopic]);
    expect(positions.length).toBeGreaterThan(0);
    for (const p of positions) expect(p).toEqual({ ...p, committed: p.end });
  }, 90_000);

  it('commits as it goes: a restart in the same group resumes after the last processed event; SIGTERM stops it cleanly', async () => {
    const prefix = `${uniqueName('partner')}.`;
    const ordersTopic = `${prefix}${ORDERS_TOPIC}`;
    topicsToDelete.push(ordersTopic);
    const c = `ord-${randomUUID()}`;
    const tick = clock('2026-03-02T10:00:00.500Z');
    const steps: [string, OrderStatus, GroupStatus][] = [
      ['OrderPlaced', OrderStatus.ORDER_STATUS_PENDING, GroupStatus.GROUP_STATUS_PENDING],
      ['OrderConfirmed', OrderStatus.ORDER_STATUS_CONFIRMED, GroupStatus.GROUP_STATUS_CONFIRMED],
      ['OrderInFulfillment', OrderStatus.ORDER_STATUS_IN_FULFILLMENT, GroupStatus.GROUP_STATUS_IN_FULFILLMENT],
      ['OrderReadyForPickup', OrderStatus.ORDER_STATUS_READY_FOR_PICKUP, GroupStatus.GROUP_STATUS_READY_FOR_PICKUP],
      ['OrderPickedUp', OrderStatus.ORDER_STATUS_PICKED_UP, GroupStatus.GROUP_STATUS_PICKED_UP],
    ];
    const codecs = {
      OrderPlaced: orderEvents.OrderPlaced,
      OrderConfirmed: orderEvents.OrderConfirmed,
      OrderInFulfillment: orderEvents.OrderInFulfillment,
      OrderReadyForPickup: orderEvents.OrderReadyForPickup,
      OrderPickedUp: orderEvents.OrderPickedUp,
    } as const;
    const messages = steps.map(([type, status, groupStatus]) => {
      const time = tick();
      const groupId = type === 'OrderPlaced' || type === 'OrderConfirmed' ? '' : 'g1';
      const codec = codecs[type as keyof typeof codecs] as {
        encode(m: { order: Order; groupId?: string }): { finish(): Uint8Array };
      };
      const value = codec
        .encode({ order: order(c, status, groupStatus, time), ...(groupId ? { groupId } : {}) })
        .finish();
      return cloudEvent('/o2o/orders', `o2o.orders.v1.${type}`, c, value, time);
    });
    await publishTo(ordersTopic, messages);
    const env = { GROUP_ID: uniqueName('partner-acme'), TOPIC_PREFIX: prefix, TOPICS: ORDERS_TOPIC };

    const first = startConsumer({ ...env, MAX_EVENTS: '2' });
    expect(await exitOf(first)).toEqual({ code: 0, signal: null });
    expect(first.events.map((x) => x.id)).toEqual(messages.slice(0, 2).map((m) => m.id));

    // The same group again, without a limit: it starts after the committed offset, then SIGTERM ends it.
    const second = startConsumer(env);
    await waitFor(() => second.events.length >= 3, { timeoutMs: 30_000, what: 'the remaining three events' });
    second.child.kill('SIGTERM');
    expect(await exitOf(second)).toEqual({ code: 0, signal: null });
    expect(second.events.map((x) => x.id)).toEqual(messages.slice(2).map((m) => m.id));
    expect(second.reports.filter((r) => r.msg.startsWith('duplicate'))).toEqual([]);
    expect(second.reports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'stopping (SIGTERM)' }),
        expect.objectContaining({ msg: 'stopped', printed: 3 }),
      ]),
    );
    const positions = await commitsAndEnds(env.GROUP_ID, [ordersTopic]);
    expect(positions).toEqual([expect.objectContaining({ committed: '5', end: '5' })]);
  }, 90_000);

  it('uses the descriptor set the contracts package ships', () => {
    // The example's default DESCRIPTOR_SET is this file, relative to the repository root.
    expect(path.relative(repoRoot(), descriptorSetPath())).toBe(
      path.join('services', 'contracts', 'descriptors', 'o2o.binpb'),
    );
  });
});
