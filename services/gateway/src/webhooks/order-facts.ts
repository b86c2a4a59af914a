// An order's facts (who may see it, its channel) from its proto3 JSON: as an orders event carries it, and as the
// gateway's GetOrder calls answer it (its routes' ownership check and the dispatcher's lookupOrder).
import type { OrderFacts } from './model';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Facts of the `order` field of an orders event's proto3 JSON; undefined when it has no order id. */
export function orderFactsFromJson(order: unknown): { orderId: string; facts: OrderFacts } | undefined {
  const o = record(order);
  const orderId = str(o.id);
  if (!orderId) return undefined;
  const groups: unknown[] = Array.isArray(o.groups) ? o.groups : [];
  const returns: unknown[] = Array.isArray(o.returns) ? o.returns : [];
  const version = Number(str(o.version) || (typeof o.version === 'number' ? o.version : 0));
  return {
    orderId,
    facts: {
      customerId: str(o.customerId),
      storeId: str(o.storeId),
      partnerId: str(record(o.marketplace).partnerId),
      // Where it is fulfilled and where goods come back: the same attribution the services use.
      locationIds: [...new Set([...groups, ...returns].map((g) => str(record(g).locationId)).filter((l) => l !== ''))],
      channel: str(o.channel),
      ...(Number.isSafeInteger(version) ? { version } : {}),
    },
  };
}

/** The order id an order-scoped event is about: the order's, the fulfilment ref's or the payment's; else the key. */
export function orderIdOfEvent(domain: string, data: unknown, key: string | null): string {
  const d = record(data);
  const id =
    domain === 'orders'
      ? str(record(d.order).id)
      : domain === 'delivery'
        ? str(record(d.ref).orderId)
        : domain === 'payments'
          ? str(record(d.payment).orderId)
          : '';
  return id || (key ?? '');
}
