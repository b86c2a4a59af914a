// Delivery under test: the real delivery service and the real inventory (which owns the locations delivery reads),
// started in this process on port 0 with the real Kafka and database. Orders events are published to the orders
// topic as the orders service would, so delivery's consumer creates and cancels fulfilments from them.
import { randomUUID } from 'node:crypto';
import { credentials } from '@grpc/grpc-js';
import * as deliveryEvents from '@o2o/contracts/gen/o2o/delivery/v1/events';
import { DeliveryServiceClient, DeliveryServiceService } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import {
  InventoryServiceClient,
  InventoryServiceService,
  LocationKind,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import * as orderEvents from '@o2o/contracts/gen/o2o/orders/v1/events';
import { FulfilmentType, type Order } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { loadConfig as loadInventoryConfig } from '@o2o/inventory/config';
import { start as startInventory, type InventoryService } from '@o2o/inventory/main';
import { asyncClient, type AsyncClient } from '@o2o/kit-grpc';
import { toCloudEventHeaders } from '@o2o/kit-kafka';
import { createLogger } from '@o2o/kit-log';
import { collectTopic, type ProbedMessage, publishTo, testInfra, uniqueName } from '@o2o/kit-testing';
import { sampleLocation } from '@o2o/kit-bench';
import { loadConfig } from '../src/config';
import { type DeliveryService, start } from '../src/main';

/** A warehouse and two stores in central Shanghai, a few kilometres apart. */
export const PLACES = {
  warehouse: { id: 'wh-huangpu', point: { latitude: 31.21, longitude: 121.49 } },
  storeA: { id: 'store-nanjing-rd', point: { latitude: 31.2336, longitude: 121.4752 } },
  storeB: { id: 'store-xintiandi', point: { latitude: 31.2197, longitude: 121.475 } },
} as const;
/** Near People's Square. */
export const DROP_OFF = { latitude: 31.2304, longitude: 121.4737 };

export type GroupSpec = {
  id: string;
  type: 'HOME_DELIVERY' | 'SHIP_FROM_STORE' | 'STORE_PICKUP' | 'IN_STORE_CARRY_OUT';
  locationId: string;
};

const TYPE: Record<GroupSpec['type'], FulfilmentType> = {
  HOME_DELIVERY: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
  SHIP_FROM_STORE: FulfilmentType.FULFILMENT_TYPE_SHIP_FROM_STORE,
  STORE_PICKUP: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
  IN_STORE_CARRY_OUT: FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT,
};

/** Whose order it is, as OrderConfirmed carries it (customer cust-1, no store, no partner unless given). */
export interface Attribution {
  customerId?: string;
  storeId?: string;
  partnerId?: string;
}

/** A delivery event as a test reads it from the topic. */
export interface DeliveryEventRecord {
  type: string;
  key: string;
  payload: Record<string, unknown>;
}

/** The running pieces and helpers of a delivery test. */
export interface DeliveryHarness {
  delivery: DeliveryService;
  inventory: InventoryService;
  address: string;
  client: AsyncClient<typeof DeliveryServiceService>;
  raw: DeliveryServiceClient;
  prefix: string;
  /** Every event delivery published so far, decoded. */
  events(): DeliveryEventRecord[];
  /** Publishes OrderConfirmed for an order with these groups (home-delivery destination DROP_OFF). */
  confirmOrder(orderId: string, groups: GroupSpec[], attribution?: Attribution): Promise<void>;
  /** Publishes OrderCancelled for the order. */
  cancelOrder(orderId: string, groups: GroupSpec[]): Promise<void>;
  /** Another replica of delivery: same database, topics and groups (stopped with the harness). */
  startReplica(): Promise<{
    service: DeliveryService;
    raw: DeliveryServiceClient;
    client: AsyncClient<typeof DeliveryServiceService>;
  }>;
  stop(): Promise<void>;
}

/** Starts inventory and delivery; `env` adds to or overrides delivery's environment. */
export async function startDelivery(env: Record<string, string> = {}): Promise<DeliveryHarness> {
  const infra = testInfra();
  const prefix = `${uniqueName('dlv')}.`;
  const common = {
    GRPC_PORT: '0',
    MONGO_URL: infra.mongoUrl,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    OUTBOX_POLL_INTERVAL_MS: '200',
    LOG_LEVEL: process.env.DLV_LOG ?? 'warn',
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
  };
  const inventory = await startInventory(
    loadInventoryConfig({ ...common, MONGO_DB: uniqueName('inv'), KAFKA_GROUP_ID: uniqueName('inv') }),
    { logger: createLogger({ service: 'inventory', level: 'warn' }) },
  );
  const locations = asyncClient(
    new InventoryServiceClient(`127.0.0.1:${inventory.port}`, credentials.createInsecure()),
    InventoryServiceService,
  );
  for (const [name, place] of Object.entries(PLACES)) {
    const kind = name === 'warehouse' ? LocationKind.LOCATION_KIND_WAREHOUSE : LocationKind.LOCATION_KIND_STORE;
    await locations.createLocation({ locationId: place.id, location: sampleLocation(name, kind, place.point) });
  }
  const config = loadConfig({
    ...common,
    MONGO_DB: uniqueName('dlv'),
    KAFKA_GROUP_ID: uniqueName('dlv'),
    INVENTORY_ADDRESS: `127.0.0.1:${inventory.port}`,
    SWEEP_INTERVAL_MS: '200',
    ...env,
  });
  const logger = createLogger({ service: 'delivery', level: (process.env.DLV_LOG ?? 'warn') as 'warn' });
  const delivery = await start(config, { logger });
  const replicas: DeliveryService[] = [];
  const address = `127.0.0.1:${delivery.port}`;
  const raw = new DeliveryServiceClient(address, credentials.createInsecure());
  const probe = await collectTopic(delivery.topic);
  const ordersTopic = `${prefix}o2o.orders.v1`;

  const publishOrder = (
    type: 'OrderConfirmed' | 'OrderCancelled',
    orderId: string,
    groups: GroupSpec[],
    attribution?: Attribution,
  ) => publishOrderEvent(ordersTopic, type, orderId, groups, attribution);

  return {
    delivery,
    inventory,
    address,
    client: asyncClient(raw, DeliveryServiceService),
    raw,
    prefix,
    events: () => probe.messages.map(decodeDeliveryEvent),
    confirmOrder: (orderId, groups, attribution) => publishOrder('OrderConfirmed', orderId, groups, attribution),
    cancelOrder: (orderId, groups) => publishOrder('OrderCancelled', orderId, groups),
    async startReplica() {
      const replica = await start(config, { logger });
      replicas.push(replica);
      const replicaRaw = new DeliveryServiceClient(`127.0.0.1:${replica.port}`, credentials.createInsecure());
      return { service: replica, raw: replicaRaw, client: asyncClient(replicaRaw, DeliveryServiceService) };
    },
    async stop() {
      raw.close();
      await probe.stop();
      for (const replica of replicas) await replica.stop();
      await delivery.stop();
      await inventory.stop();
    },
  };
}

/** Publishes OrderConfirmed or OrderCancelled for an order with these groups, as the orders service would. */
export async function publishOrderEvent(
  topic: string,
  type: 'OrderConfirmed' | 'OrderCancelled',
  orderId: string,
  groups: GroupSpec[],
  attribution?: Attribution,
): Promise<void> {
  const order = orderWith(orderId, groups, attribution);
  const value =
    type === 'OrderConfirmed'
      ? orderEvents.OrderConfirmed.encode({ order }).finish()
      : orderEvents.OrderCancelled.encode({ order, reason: 'shopper cancelled' }).finish();
  const message: ProbedMessage = {
    key: orderId,
    headers: toCloudEventHeaders({
      id: randomUUID(),
      type: `o2o.orders.v1.${type}`,
      source: '/o2o/orders',
      subject: orderId,
      time: new Date(),
    }),
    value: Buffer.from(value),
  };
  await publishTo(topic, [message]);
}

/** An order as OrderConfirmed carries it: its groups (one item each), a home-delivery destination, whose it is. */
export function orderWith(orderId: string, groups: GroupSpec[], attribution: Attribution = {}): Order {
  return orderEvents.OrderConfirmed.fromPartial({
    order: {
      id: orderId,
      customerId: attribution.customerId ?? 'cust-1',
      storeId: attribution.storeId ?? '',
      ...(attribution.partnerId ? { marketplace: { partnerId: attribution.partnerId, externalOrderId: orderId } } : {}),
      fulfilment: {
        type: TYPE[groups[0]?.type ?? 'HOME_DELIVERY'],
        delivery: {
          point: DROP_OFF,
          address: {
            lines: ['1 People Avenue'],
            district: 'Huangpu',
            city: 'Shanghai',
            region: 'Shanghai',
            postalCode: '200003',
            countryCode: 'CN',
          },
          recipientName: 'Li Wei',
          recipientPhone: '+8613800138000',
        },
      },
      groups: groups.map((g) => ({
        id: g.id,
        type: TYPE[g.type],
        locationId: g.locationId,
        items: [{ skuCode: 'TEA-1', quantity: '2' }],
      })),
    },
  }).order as Order;
}

const CODECS: Record<string, { decode(b: Uint8Array): unknown }> = {
  TaskAccepted: deliveryEvents.TaskAccepted,
  TaskOverdue: deliveryEvents.TaskOverdue,
  ShipmentCreated: deliveryEvents.ShipmentCreated,
  CourierAssigned: deliveryEvents.CourierAssigned,
  ReadyForPickup: deliveryEvents.ReadyForPickup,
  PickedUp: deliveryEvents.PickedUp,
  OutForDelivery: deliveryEvents.OutForDelivery,
  Delivered: deliveryEvents.Delivered,
  DeliveryFailed: deliveryEvents.DeliveryFailed,
  PickupExpired: deliveryEvents.PickupExpired,
  FulfilmentCancelled: deliveryEvents.FulfilmentCancelled,
  ShipmentPosition: deliveryEvents.ShipmentPosition,
};

function decodeDeliveryEvent(m: ProbedMessage): DeliveryEventRecord {
  const type = (m.headers.ce_type ?? '').replace('o2o.delivery.v1.', '');
  const codec = CODECS[type];
  return { type, key: m.key, payload: (codec ? codec.decode(m.value) : {}) as Record<string, unknown> };
}
