import { Metadata, status } from '@grpc/grpc-js';
import {
  actsForLocation,
  callerFrom,
  canSeeOrder,
  type OrderAttribution,
  type Principal,
  PRINCIPAL_METADATA_KEY,
  PrincipalError,
  principalFrom,
  principalMetadata,
} from './identity';

const shopper: Principal = { role: 'shopper', subject: 'cust-1', storeIds: [], scopes: ['orders:read'] };
const staff: Principal = { role: 'staff', subject: 'emp-1', storeIds: ['store-a'], scopes: [] };
const partner: Principal = { role: 'partner', subject: 'tmall', storeIds: ['store-p'], scopes: [] };
const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };

/** Metadata carrying `value` as the principal, exactly as sent. */
function raw(value: string): Metadata {
  const metadata = new Metadata();
  metadata.set(PRINCIPAL_METADATA_KEY, value);
  return metadata;
}
const encoded = (json: unknown) => Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');

describe('principal metadata', () => {
  it('round-trips every role through the metadata the gateway writes', () => {
    for (const p of [shopper, staff, partner, admin]) expect(principalFrom(principalMetadata(p))).toEqual(p);
  });

  it('adds to metadata the caller already has, under x-o2o-principal, as base64url JSON', () => {
    const metadata = new Metadata();
    metadata.set('x-request-id', 'r-1');
    principalMetadata(staff, metadata);
    expect(metadata.get('x-request-id')).toEqual(['r-1']);
    const value = metadata.get(PRINCIPAL_METADATA_KEY)[0] as string;
    expect(JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))).toEqual(staff);
  });

  it('no principal is an internal call: undefined, not an error', () => {
    expect(principalFrom(new Metadata())).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', raw('%%%not-json')],
    ['a valid principal with characters outside base64url', raw(`${encoded(shopper)}%`)],
    ['padded base64', raw(`${Buffer.from(JSON.stringify(shopper)).toString('base64')}==`)],
    ['JSON that is not an object', raw(encoded('shopper'))],
    ['null', raw(encoded(null))],
    ['an unknown role', raw(encoded({ ...shopper, role: 'root' }))],
    ['no role', raw(encoded({ subject: 'x', storeIds: [], scopes: [] }))],
    ['an empty subject', raw(encoded({ ...shopper, subject: '' }))],
    ['a subject over 128 characters', raw(encoded({ ...shopper, subject: 'x'.repeat(129) }))],
    ['store ids that are not strings', raw(encoded({ ...staff, storeIds: [1] }))],
    ['an empty store id', raw(encoded({ ...staff, storeIds: [''] }))],
    ['scopes missing', raw(encoded({ role: 'admin', subject: 'a', storeIds: [] }))],
    ['an oversized value', raw(encoded({ ...staff, storeIds: Array.from({ length: 1000 }, (_, i) => `store-${i}`) }))],
  ])('refuses %s as UNAUTHENTICATED', (_what, metadata) => {
    expect(() => principalFrom(metadata)).toThrow(PrincipalError);
    try {
      principalFrom(metadata);
    } catch (error) {
      expect((error as PrincipalError).code).toBe(status.UNAUTHENTICATED);
    }
  });

  it('refuses two principals on one call', () => {
    const metadata = principalMetadata(shopper);
    metadata.add(PRINCIPAL_METADATA_KEY, principalMetadata(admin).get(PRINCIPAL_METADATA_KEY)[0]!);
    expect(() => principalFrom(metadata)).toThrow('more than one principal');
  });

  it('callerFrom turns a malformed principal into the service’s own error and passes the rest through', () => {
    class ServiceFailure extends Error {}
    const refuse = (message: string) => new ServiceFailure(message);
    expect(callerFrom(new Metadata(), refuse)).toBeUndefined();
    expect(callerFrom(principalMetadata(partner), refuse)).toEqual(partner);
    expect(() => callerFrom(raw(encoded({ ...shopper, role: 'root' })), refuse)).toThrow(ServiceFailure);
    expect(() => callerFrom(raw(encoded({ ...shopper, role: 'root' })), refuse)).toThrow(/unknown role/);
  });
});

describe('who may see an order', () => {
  const online: OrderAttribution = { customerId: 'cust-1', storeId: '', partnerId: '', locationIds: ['wh-1'] };
  const kiosk: OrderAttribution = { customerId: 'cust-2', storeId: 'store-a', partnerId: '', locationIds: ['wh-1'] };
  const fromStoreA: OrderAttribution = { customerId: 'cust-2', storeId: '', partnerId: '', locationIds: ['store-a'] };
  const marketplace: OrderAttribution = { customerId: 'mp-9', storeId: '', partnerId: 'tmall', locationIds: ['wh-1'] };
  const atPartnerStore: OrderAttribution = { customerId: '', storeId: 'store-p', partnerId: '', locationIds: [] };
  const walkIn: OrderAttribution = { customerId: '', storeId: 'store-b', partnerId: '', locationIds: ['store-b'] };

  it('a shopper sees their own orders only', () => {
    expect(canSeeOrder(shopper, online)).toBe(true);
    expect(canSeeOrder(shopper, kiosk)).toBe(false);
    expect(canSeeOrder(shopper, marketplace)).toBe(false);
    // An order with no customer is nobody's: an empty subject could never match anyway.
    expect(canSeeOrder({ ...shopper, subject: '' }, walkIn)).toBe(false);
  });

  it('staff see the orders their stores sold or fulfil', () => {
    expect(canSeeOrder(staff, kiosk)).toBe(true);
    expect(canSeeOrder(staff, fromStoreA)).toBe(true);
    expect(canSeeOrder(staff, online)).toBe(false);
    expect(canSeeOrder(staff, walkIn)).toBe(false);
    // Staff of no store see nothing, even an order with no store.
    expect(canSeeOrder({ ...staff, storeIds: [] }, online)).toBe(false);
  });

  it('a partner sees the orders it placed and those of the stores it operates', () => {
    expect(canSeeOrder(partner, marketplace)).toBe(true);
    expect(canSeeOrder(partner, atPartnerStore)).toBe(true);
    expect(canSeeOrder(partner, online)).toBe(false);
    expect(canSeeOrder({ ...partner, subject: 'jd' }, marketplace)).toBe(false);
  });

  it('an admin sees every order', () => {
    for (const order of [online, kiosk, fromStoreA, marketplace, atPartnerStore, walkIn]) {
      expect(canSeeOrder(admin, order)).toBe(true);
    }
  });

  it('acting for a location: staff and partners at their stores, admins anywhere, shoppers nowhere', () => {
    expect(actsForLocation(staff, 'store-a')).toBe(true);
    expect(actsForLocation(staff, 'store-b')).toBe(false);
    expect(actsForLocation(partner, 'store-p')).toBe(true);
    expect(actsForLocation(partner, 'store-a')).toBe(false);
    expect(actsForLocation(admin, 'anywhere')).toBe(true);
    expect(actsForLocation({ ...shopper, storeIds: ['store-a'] }, 'store-a')).toBe(false);
  });
});
