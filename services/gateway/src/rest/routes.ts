import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { actsForLocation, canSeeOrder, type Role } from '@o2o/kit-grpc';
import { HttpProblem } from '../http/problem';
import type { RequestContext, Route } from '../http/route';
import type { Contract, SchemaBuilder } from './contract';
import type { GrpcGateway } from './grpc-call';
import { orderFactsFromJson } from '../webhooks/order-facts';
import { grpcRoute, type GrpcRouteSpec, require403 } from './grpc-route';

const ALL: readonly Role[] = ['shopper', 'staff', 'partner', 'admin'];
const ADMIN: readonly Role[] = ['admin'];
const STORE: readonly Role[] = ['staff', 'partner', 'admin'];

const CATALOGUE = 'o2o.catalogue.v1.CatalogueService';
const INVENTORY = 'o2o.inventory.v1.InventoryService';
const ORDERS = 'o2o.orders.v1.OrdersService';
const PAYMENTS = 'o2o.payments.v1.PaymentsService';
const DELIVERY = 'o2o.delivery.v1.DeliveryService';

const PAGE = [
  {
    name: 'pageSize',
    field: 'page.pageSize',
    description: 'How many items per page (1..200; default 50).',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 200 },
  },
  { name: 'pageToken', field: 'page.pageToken', description: 'The `nextPageToken` of the previous page.' },
];

const str = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : '');

/** The gateway's own check of an order a service returned: defence in depth, and the same 404 as a missing one. */
function ensureVisible(order: JsonValue | undefined, ctx: RequestContext): void {
  // The same attribution the services and the webhook dispatcher use.
  const read = orderFactsFromJson(order);
  if (!read || !canSeeOrder(ctx.principal, read.facts)) throw HttpProblem.notFound('no such order');
}

const orderInResponse = (response: JsonObject, ctx: RequestContext) => ensureVisible(response.order, ctx);

/** Store roles act only for their own locations (admins for all); the service checks the same. */
const forLocation = (request: JsonObject, ctx: RequestContext) =>
  require403(
    actsForLocation(ctx.principal, str(request.locationId)),
    `this credential does not act for location ${str(request.locationId)}`,
  );

/** One step of a store's work on a fulfilment: for those acting for the location, idempotent by state (no key). */
const taskStep = (step: string, rpc: string, summary: string, body: boolean): GrpcRouteSpec => ({
  method: 'POST',
  path: `/v1/locations/{locationId}/fulfilments/{fulfilmentId}/${step}`,
  rpc: `${DELIVERY}/${rpc}`,
  summary,
  tag: 'Fulfilment',
  roles: STORE,
  scopes: ['fulfilment:write'],
  body,
  errors: [404, 409],
  before: forLocation,
});

/** The REST operations backed by one RPC each. */
function unaryRoutes(): GrpcRouteSpec[] {
  return [
    // ---- catalogue
    {
      method: 'GET',
      path: '/v1/products',
      rpc: `${CATALOGUE}/ListProducts`,
      summary: 'List products',
      tag: 'Catalogue',
      roles: ALL,
      scopes: ['catalogue:read'],
      query: [...PAGE, { name: 'status' }, { name: 'category' }, { name: 'sellableChannel' }, { name: 'brand' }],
    },
    {
      method: 'GET',
      path: '/v1/products/search',
      rpc: `${CATALOGUE}/SearchProducts`,
      summary: 'Search products by text',
      tag: 'Catalogue',
      roles: ALL,
      scopes: ['catalogue:read'],
      query: [{ name: 'query', required: true }, ...PAGE],
    },
    {
      method: 'GET',
      path: '/v1/products/{productId}',
      rpc: `${CATALOGUE}/GetProduct`,
      summary: 'Get a product',
      tag: 'Catalogue',
      roles: ALL,
      scopes: ['catalogue:read'],
      errors: [404],
    },
    {
      method: 'POST',
      path: '/v1/products',
      rpc: `${CATALOGUE}/CreateProduct`,
      summary: 'Create a product (draft)',
      tag: 'Catalogue',
      roles: ADMIN,
      scopes: ['catalogue:write'],
      body: true,
      idempotent: true,
      successStatus: 201,
      errors: [409],
    },
    {
      method: 'POST',
      path: '/v1/products/{productId}/prices',
      rpc: `${CATALOGUE}/SetPrice`,
      summary: "Set a SKU's price for a channel",
      tag: 'Catalogue',
      roles: ADMIN,
      scopes: ['catalogue:write'],
      body: true,
      idempotent: true,
      errors: [404, 409],
    },
    {
      method: 'POST',
      path: '/v1/products/{productId}/activate',
      rpc: `${CATALOGUE}/ActivateProduct`,
      summary: 'Make a product sellable',
      tag: 'Catalogue',
      roles: ADMIN,
      scopes: ['catalogue:write'],
      body: true,
      idempotent: true,
      errors: [404, 409],
    },
    // ---- availability and locations
    {
      method: 'GET',
      path: '/v1/availability',
      rpc: `${INVENTORY}/GetAvailability`,
      summary: 'Available quantities of SKUs, per location',
      tag: 'Availability',
      roles: ALL,
      scopes: ['inventory:read'],
      query: [
        { name: 'skuCodes', required: true },
        { name: 'locationIds', description: 'Only these locations (default: every active location).' },
      ],
    },
    {
      method: 'POST',
      path: '/v1/availability/nearby',
      rpc: `${INVENTORY}/FindNearbyStock`,
      summary: 'Locations near a point that have all the items',
      tag: 'Availability',
      roles: ALL,
      scopes: ['inventory:read'],
      body: true,
    },
    {
      method: 'GET',
      path: '/v1/locations',
      rpc: `${INVENTORY}/ListLocations`,
      summary: 'List stores and warehouses',
      tag: 'Availability',
      roles: ALL,
      scopes: ['inventory:read'],
      query: [...PAGE, { name: 'kinds' }, { name: 'statuses' }],
    },
    {
      method: 'GET',
      path: '/v1/locations/{locationId}',
      rpc: `${INVENTORY}/GetLocation`,
      summary: 'Get a store or warehouse',
      tag: 'Availability',
      roles: ALL,
      scopes: ['inventory:read'],
      errors: [404],
    },
    {
      method: 'PUT',
      path: '/v1/locations/{locationId}',
      rpc: `${INVENTORY}/CreateLocation`,
      operationId: 'createLocation',
      summary: 'Create a store or warehouse',
      tag: 'Availability',
      roles: ADMIN,
      scopes: ['inventory:write'],
      body: true,
      successStatus: 201,
      errors: [409],
    },
    {
      method: 'POST',
      path: '/v1/locations/{locationId}/stock-adjustments',
      rpc: `${INVENTORY}/AdjustStock`,
      summary: 'Adjust the on-hand stock of a SKU at a location',
      tag: 'Availability',
      roles: ADMIN,
      scopes: ['inventory:write'],
      body: true,
      idempotent: true,
      errors: [404, 409],
    },
    // ---- orders
    {
      method: 'POST',
      path: '/v1/orders',
      rpc: `${ORDERS}/PlaceOrder`,
      summary: 'Place an order',
      description:
        'Places an order for any channel. A shopper orders for themselves (customerId defaults to the caller); ' +
        'store staff for their stores; a partner for its marketplace orders. The answer is the order as placed: ' +
        'stock held and payment authorized (or awaiting a wallet payment), or rejected with the reason.',
      tag: 'Orders',
      roles: ALL,
      scopes: ['orders:write'],
      body: true,
      idempotent: true,
      successStatus: 201,
      errors: [404, 409],
      before(request, ctx) {
        const p = ctx.principal;
        if (p.role === 'shopper') {
          request.customerId ??= p.subject;
          require403(request.customerId === p.subject, 'a shopper orders for themselves only');
        }
        if (p.role === 'partner') {
          const marketplace = (request.marketplace ?? {}) as JsonObject;
          marketplace.partnerId ??= p.subject;
          request.marketplace = marketplace;
          require403(marketplace.partnerId === p.subject, 'a partner places its own marketplace orders only');
        }
        if (p.role === 'staff') {
          require403(p.storeIds.includes(str(request.storeId)), 'staff order for their own stores only');
        }
      },
      after: orderInResponse,
    },
    {
      method: 'GET',
      path: '/v1/orders',
      rpc: `${ORDERS}/ListOrders`,
      summary: 'List orders',
      description:
        "A shopper lists their own orders; staff a store's (storeId required); a partner its marketplace orders " +
        '(or a store it operates); an admin any.',
      tag: 'Orders',
      roles: ALL,
      scopes: ['orders:read'],
      query: [
        ...PAGE,
        { name: 'customerId' },
        { name: 'storeId' },
        { name: 'partnerId' },
        { name: 'channel' },
        { name: 'statuses' },
        { name: 'placedAfter' },
        { name: 'placedBefore' },
      ],
      before(request, ctx) {
        const p = ctx.principal;
        if (p.role === 'shopper') {
          request.customerId ??= p.subject;
          require403(request.customerId === p.subject, 'a shopper lists their own orders only');
        } else if (p.role === 'staff') {
          if (!request.storeId)
            throw HttpProblem.invalid('staff list one store', [{ name: 'storeId', reason: 'is required' }]);
          require403(p.storeIds.includes(str(request.storeId)), 'staff list their own stores only');
        } else if (p.role === 'partner') {
          if (request.storeId)
            require403(p.storeIds.includes(str(request.storeId)), 'not a store this partner operates');
          else {
            request.partnerId ??= p.subject;
            require403(request.partnerId === p.subject, 'a partner lists its own orders only');
          }
        }
      },
      after(response, ctx) {
        const orders = Array.isArray(response.orders) ? (response.orders as JsonObject[]) : [];
        for (const order of orders) ensureVisible(order, ctx);
      },
    },
    {
      method: 'GET',
      path: '/v1/orders/{orderId}',
      rpc: `${ORDERS}/GetOrder`,
      summary: 'Get an order',
      tag: 'Orders',
      roles: ALL,
      scopes: ['orders:read'],
      errors: [404],
      after: orderInResponse,
    },
    {
      method: 'GET',
      path: '/v1/orders/{orderId}/timeline',
      rpc: `${ORDERS}/GetOrderTimeline`,
      summary: "An order's status history",
      tag: 'Orders',
      roles: ALL,
      scopes: ['orders:read'],
      errors: [404],
    },
    {
      method: 'POST',
      path: '/v1/orders/{orderId}/cancel',
      rpc: `${ORDERS}/CancelOrder`,
      summary: 'Cancel an order',
      tag: 'Orders',
      roles: ALL,
      scopes: ['orders:write'],
      body: true,
      idempotent: true,
      errors: [404, 409],
      after: orderInResponse,
    },
    // ---- returns
    {
      method: 'POST',
      path: '/v1/orders/{orderId}/returns',
      rpc: `${ORDERS}/RequestReturn`,
      summary: 'Request a return',
      tag: 'Returns',
      roles: ALL,
      scopes: ['orders:write'],
      body: true,
      idempotent: true,
      successStatus: 201,
      errors: [404, 409],
      after: orderInResponse,
    },
    {
      method: 'POST',
      path: '/v1/orders/{orderId}/returns/{returnId}/receive',
      rpc: `${ORDERS}/ReceiveReturn`,
      summary: 'Receive returned goods at the store (refunds them)',
      tag: 'Returns',
      roles: STORE,
      scopes: ['orders:write'],
      body: true,
      idempotent: true,
      errors: [404, 409],
      after: orderInResponse,
    },
    // ---- store fulfilment
    {
      method: 'GET',
      path: '/v1/locations/{locationId}/fulfilments',
      rpc: `${DELIVERY}/ListFulfilments`,
      summary: "A store's fulfilment work queue",
      tag: 'Fulfilment',
      roles: STORE,
      scopes: ['fulfilment:write'],
      query: [{ name: 'taskStatuses' }, ...PAGE],
      before: forLocation,
    },
    taskStep('accept', 'AcceptTask', 'Accept a fulfilment task', true),
    taskStep('picked', 'MarkPicked', 'Mark the items picked', false),
    taskStep('ready', 'MarkReady', 'Mark packed: ready for the courier or for pick-up', false),
    taskStep('verify-pickup', 'VerifyPickup', "Hand a pick-up over on the shopper's code", true),
  ];
}

/** Deps the composite routes need. */
export interface RouteDeps {
  contract: Contract;
  grpc: GrpcGateway;
  schemas: SchemaBuilder;
  deadlineMs: number;
  /** Heartbeat of server-sent event streams, so proxies keep them open. */
  sseHeartbeatMs: number;
}

/** Reads the order as the caller (the service checks ownership, and so does the gateway); 404 when not theirs. */
async function visibleOrder(deps: RouteDeps, ctx: RequestContext, orderId: string): Promise<JsonObject> {
  const response = (await deps.grpc.unary(
    deps.contract.method(ORDERS, 'GetOrder'),
    { orderId },
    { metadata: ctx.metadata, deadlineMs: deps.deadlineMs, signal: ctx.signal },
  )) as JsonObject;
  ensureVisible(response.order, ctx);
  return response.order as JsonObject;
}

/** The fulfilment of one group of an order the caller may see. */
async function groupFulfilment(deps: RouteDeps, ctx: RequestContext): Promise<JsonObject> {
  const orderId = ctx.params.orderId ?? '';
  const groupId = ctx.params.groupId ?? '';
  const order = await visibleOrder(deps, ctx, orderId);
  const groups = (order.groups ?? []) as JsonObject[];
  if (!groups.some((g) => g.id === groupId)) throw HttpProblem.notFound('the order has no such group');
  const response = (await deps.grpc.unary(
    deps.contract.method(DELIVERY, 'GetFulfilment'),
    { orderId, groupId },
    { metadata: ctx.metadata, deadlineMs: deps.deadlineMs, signal: ctx.signal },
  )) as JsonObject;
  return (response.fulfilment ?? {}) as JsonObject;
}

/** Operations that combine calls: payments of an order, a group's handover code, live tracking. */
function compositeRoutes(deps: RouteDeps): Route[] {
  const { schemas, contract } = deps;
  return [
    {
      method: 'GET',
      path: '/v1/orders/{orderId}/payments',
      operationId: 'listOrderPayments',
      summary: "An order's payments (authorizations, captures, refunds)",
      tag: 'Payments',
      roles: ALL,
      scopes: ['payments:read'],
      query: [
        {
          name: 'pageSize',
          description: 'How many items per page (1..100).',
          schema: { type: 'integer', minimum: 1, maximum: 100 },
        },
        { name: 'pageToken', description: 'The `nextPageToken` of the previous page.', schema: { type: 'string' } },
      ],
      success: {
        status: 200,
        description: 'ListPaymentsResponse',
        schema: schemas.message(contract.message('o2o.payments.v1.ListPaymentsResponse')),
      },
      errors: [404],
      async handle(ctx) {
        const orderId = ctx.params.orderId ?? '';
        await visibleOrder(deps, ctx, orderId);
        const page: JsonObject = {};
        if (ctx.query.pageSize !== undefined) page.pageSize = ctx.query.pageSize as number;
        if (ctx.query.pageToken !== undefined) page.pageToken = ctx.query.pageToken as string;
        const body = await deps.grpc.unary(
          contract.method(PAYMENTS, 'ListPayments'),
          { orderId, page },
          { metadata: ctx.metadata, deadlineMs: deps.deadlineMs, signal: ctx.signal },
        );
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      path: '/v1/orders/{orderId}/groups/{groupId}/fulfilment',
      operationId: 'getOrderFulfilment',
      summary: 'How one group of an order is being fulfilled (task, pick-up or shipment)',
      tag: 'Tracking',
      roles: ALL,
      scopes: ['tracking:read'],
      success: {
        status: 200,
        description: 'GetFulfilmentResponse',
        schema: schemas.message(contract.message('o2o.delivery.v1.GetFulfilmentResponse')),
      },
      errors: [404],
      async handle(ctx) {
        return { status: 200, body: { fulfilment: await groupFulfilment(deps, ctx) } };
      },
    },
    {
      method: 'GET',
      path: '/v1/orders/{orderId}/groups/{groupId}/handover-code',
      operationId: 'getHandoverCode',
      summary: 'The buyer’s pick-up or delivery code (and QR payload)',
      description:
        'Only the buyer’s side reads the code: the shopper who ordered, the marketplace partner that placed the order, ' +
        'an admin. Store staff never do (the code proves the buyer is at the counter or the door).',
      tag: 'Tracking',
      roles: ['shopper', 'partner', 'admin'],
      scopes: ['tracking:read'],
      success: {
        status: 200,
        description: 'GetHandoverCodeResponse',
        schema: schemas.message(contract.message('o2o.delivery.v1.GetHandoverCodeResponse')),
      },
      errors: [404, 409],
      async handle(ctx) {
        const fulfilment = await groupFulfilment(deps, ctx);
        const body = await deps.grpc.unary(
          contract.method(DELIVERY, 'GetHandoverCode'),
          { fulfilmentId: str(fulfilment.id) },
          { metadata: ctx.metadata, deadlineMs: deps.deadlineMs, signal: ctx.signal },
        );
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      path: '/v1/orders/{orderId}/groups/{groupId}/tracking',
      operationId: 'watchDelivery',
      summary: 'Live tracking of a home delivery (server-sent events)',
      description:
        'A `text/event-stream`: the latest state first, then every position and status change in order. Each event ' +
        'is `event: update`, `id: <sequence>`, `data: <WatchShipmentResponse as JSON>`; comments (`: keep-alive`) ' +
        'keep the connection open. The stream ends after the shipment is delivered or failed; reconnecting starts ' +
        'again from the latest state.',
      tag: 'Tracking',
      roles: ALL,
      scopes: ['tracking:read'],
      success: {
        status: 200,
        description: 'WatchShipmentResponse events',
        schema: schemas.message(contract.message('o2o.delivery.v1.WatchShipmentResponse')),
        eventStream: true,
      },
      errors: [404, 409],
      async handle(ctx) {
        const fulfilment = await groupFulfilment(deps, ctx);
        const shipment = fulfilment.shipment as JsonObject | undefined;
        const shipmentId = str(shipment?.id);
        if (!shipmentId) throw new HttpProblem(409, 'this group has no shipment yet (not accepted, or not a delivery)');
        const res = ctx.response;
        let opened = false;
        const open = () => {
          if (opened) return;
          opened = true;
          res.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-store',
            connection: 'keep-alive',
            'x-accel-buffering': 'no',
          });
          res.write(': tracking\n\n');
        };
        const heartbeat = setInterval(() => {
          if (opened) res.write(': keep-alive\n\n');
        }, deps.sseHeartbeatMs).unref();
        try {
          await deps.grpc.serverStream(
            contract.method(DELIVERY, 'WatchShipment'),
            { shipmentId },
            { metadata: ctx.metadata, deadlineMs: 0, signal: ctx.signal },
            (message) => {
              open();
              const m = message as JsonObject;
              res.write(`event: update\nid: ${str(m.sequence)}\ndata: ${JSON.stringify(m)}\n\n`);
            },
          );
          open();
          res.end('event: end\ndata: {}\n\n');
        } catch (error) {
          if (!opened) throw error;
          // The stream already started: tell the client why it ends; it reconnects (e.g. a replica stopping).
          const code = (error as { code?: number }).code;
          res.end(`event: error\ndata: ${JSON.stringify({ grpcStatus: code, reconnect: true })}\n\n`);
        } finally {
          clearInterval(heartbeat);
        }
      },
    },
  ];
}

/** Every gRPC-backed route of the gateway. */
export function serviceRoutes(deps: RouteDeps): Route[] {
  return [...unaryRoutes().map((spec) => grpcRoute(spec, deps)), ...compositeRoutes(deps)];
}
