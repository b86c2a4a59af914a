import { Metadata, status } from '@grpc/grpc-js';

/**
 * Who is calling, as the gateway established it (API key or JWT) and passes on to the services in gRPC metadata.
 * Services check ownership with it too (defence in depth): a call that carries no principal is an internal call
 * between services (or an operator's), which the network policies restrict to the platform's own pods.
 */
export type Role = 'shopper' | 'staff' | 'partner' | 'admin';

export const ROLES: readonly Role[] = ['shopper', 'staff', 'partner', 'admin'];

export interface Principal {
  role: Role;
  /** The shopper's customer id, the staff member's id, the partner's id, or the admin's id. */
  subject: string;
  /** The stores a staff member works at, or a partner operates (orders of these stores are theirs to see). */
  storeIds: readonly string[];
  /** What the credential may do, e.g. `orders:write` (the gateway checks scopes; services check ownership). */
  scopes: readonly string[];
}

/** The metadata key that carries the principal: base64url of its JSON. */
export const PRINCIPAL_METADATA_KEY = 'x-o2o-principal';

const MAX_ENCODED = 8_192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Writes the principal into call metadata (the gateway does this on every call it makes for a client). */
export function principalMetadata(principal: Principal, into: Metadata = new Metadata()): Metadata {
  const json = JSON.stringify({
    role: principal.role,
    subject: principal.subject,
    storeIds: principal.storeIds,
    scopes: principal.scopes,
  });
  into.set(PRINCIPAL_METADATA_KEY, Buffer.from(json, 'utf8').toString('base64url'));
  return into;
}

/** A principal that could not be read: the call is refused as UNAUTHENTICATED, never served as internal. */
export class PrincipalError extends Error {
  readonly code = status.UNAUTHENTICATED;
  constructor(message: string) {
    super(message);
    this.name = 'PrincipalError';
  }
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 128);

/**
 * Reads the caller's principal from call metadata. Undefined when there is none (an internal call); throws
 * PrincipalError when one is present but malformed, so a bad header never widens access.
 */
export function principalFrom(metadata: Metadata): Principal | undefined {
  const values = metadata.get(PRINCIPAL_METADATA_KEY);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new PrincipalError('more than one principal');
  const raw = values[0];
  // Node's base64url decoder skips characters it does not know, so the alphabet is checked first: only the exact
  // encoding principalMetadata writes is read.
  if (typeof raw !== 'string' || raw.length > MAX_ENCODED || !BASE64URL.test(raw)) {
    throw new PrincipalError('malformed principal');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new PrincipalError('malformed principal');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new PrincipalError('malformed principal');
  const p = parsed as Record<string, unknown>;
  if (!ROLES.includes(p.role as Role)) throw new PrincipalError('unknown role');
  if (typeof p.subject !== 'string' || p.subject.length === 0 || p.subject.length > 128) {
    throw new PrincipalError('principal has no subject');
  }
  if (!isStringArray(p.storeIds) || !isStringArray(p.scopes)) throw new PrincipalError('malformed principal');
  return { role: p.role as Role, subject: p.subject, storeIds: p.storeIds, scopes: p.scopes };
}

/** What decides who may see an order: who bought it, which store sold it, which partner placed it, where it is fulfilled. */
export interface OrderAttribution {
  customerId: string;
  /** The selling store (POS, kiosk, endless aisle); empty online. */
  storeId: string;
  /** The marketplace partner that placed it; empty otherwise. */
  partnerId: string;
  /** Every location that fulfils (or fulfilled) part of it, and every location goods are returned to. */
  locationIds: readonly string[];
}

const atStores = (storeIds: readonly string[], order: OrderAttribution): boolean =>
  (order.storeId !== '' && storeIds.includes(order.storeId)) || order.locationIds.some((l) => storeIds.includes(l));

/**
 * The one ownership rule, shared by the gateway (routes, webhooks) and the services: a shopper sees their own
 * orders; store staff the orders their stores sold or fulfil; a partner the orders it placed and those of the
 * stores it operates; an admin every order.
 */
export function canSeeOrder(principal: Principal, order: OrderAttribution): boolean {
  switch (principal.role) {
    case 'admin':
      return true;
    case 'shopper':
      return order.customerId !== '' && order.customerId === principal.subject;
    case 'staff':
      return atStores(principal.storeIds, order);
    case 'partner':
      return (order.partnerId !== '' && order.partnerId === principal.subject) || atStores(principal.storeIds, order);
  }
}

/** Whether the principal may act for a store or location (staff at it, a partner operating it, an admin). */
export function actsForLocation(principal: Principal, locationId: string): boolean {
  if (principal.role === 'admin') return true;
  if (principal.role === 'shopper') return false;
  return principal.storeIds.includes(locationId);
}

/**
 * The caller of a service handler: principalFrom, with a malformed principal turned into the service's own error (its
 * kind for UNAUTHENTICATED), so the service's one status table maps it and nothing else runs.
 */
export function callerFrom<E extends Error>(
  metadata: Metadata,
  unauthenticated: (message: string) => E,
): Principal | undefined {
  try {
    return principalFrom(metadata);
  } catch (error) {
    if (error instanceof PrincipalError) throw unauthenticated(`The caller's principal is refused: ${error.message}`);
    throw error;
  }
}
