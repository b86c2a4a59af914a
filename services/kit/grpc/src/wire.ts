// Small helpers every service's proto-mapping.ts needs. They know the wire shapes only (structurally), never a
// service's domain types.

/** Where mapping problems go (each service's violation collector). */
export interface ViolationSink {
  add(field: string, description: string): void;
}

/** The wire Money of o2o.common.v1 (ts-proto with forceLong=string). */
export interface WireMoney {
  currencyCode: string;
  amountMinor: string;
}

/** Money as the services' domains hold it: integer minor units and an ISO currency. */
export interface MinorUnits {
  currency: string;
  amountMinor: number;
}

/**
 * The wire → domain table of an enum, derived from the domain → wire one, so the two cannot drift apart.
 * Values missing from the result (UNSPECIFIED, unknown numbers) are the caller's violations.
 */
export function invertEnumTable<D extends string, P extends number>(table: Record<D, P>): Partial<Record<P, D>> {
  return Object.fromEntries(Object.entries(table).map(([domain, wire]) => [wire, domain])) as Partial<Record<P, D>>;
}

/** Wire money → integer minor units, or a violation (missing, or not a whole number). */
export function moneyFromWire(money: WireMoney | undefined, field: string, v: ViolationSink): MinorUnits {
  if (!money) {
    v.add(field, 'is required');
    return { currency: '', amountMinor: 0 };
  }
  const amount = Number(money.amountMinor);
  if (!/^-?\d+$/.test(money.amountMinor) || !Number.isSafeInteger(amount)) {
    v.add(`${field}.amount_minor`, 'must be a whole number of minor units');
  }
  return { currency: money.currencyCode, amountMinor: amount };
}

/** Integer minor units → wire money. */
export function moneyToWire(money: MinorUnits): WireMoney {
  return { currencyCode: money.currency, amountMinor: String(money.amountMinor) };
}
