// Couriers: registration, shifts, and what a courier sees (its offers).
import { type CourierState, validateProfile, type Vehicle } from '../domain/courier';
import { DeliveryError } from '../domain/errors';
import { fulfilmentIdOfShipment } from '../domain/fulfilment';
import type { FulfilmentState, GeoPoint } from '../domain/types';
import { type CallerOption, checkCourierCall } from './access';
import type { Deps } from './ports';
import { checks } from './validate';

/** Registers a courier or updates its profile. */
export async function registerCourier(
  deps: Deps,
  input: { courierId: string; name: string; phone: string; vehicle: Vehicle | undefined; capacity: number },
  { caller }: CallerOption = {},
): Promise<CourierState> {
  checkCourierCall(caller);
  const profile = validateProfile({ id: input.courierId, ...input });
  return deps.couriers.register(profile, deps.clock.now());
}

/** A courier and the shipments offered to it. */
export async function getCourier(
  deps: Deps,
  input: { courierId: string },
  { caller }: CallerOption = {},
): Promise<{ courier: CourierState; offers: FulfilmentState[] }> {
  checkCourierCall(caller);
  checks().id('courier_id', input.courierId).done();
  const courier = await deps.couriers.find(input.courierId);
  if (!courier) throw new DeliveryError('not-found', `Courier "${input.courierId}" is not registered`);
  const held = await heldShipments(deps, courier);
  return { courier, offers: held.filter((s) => s.shipment?.offer?.courierId === courier.id) };
}

/** The shipments a courier holds a slot for (offered to it or carried by it); live tracking reads them too. */
export async function heldShipments(
  deps: Pick<Deps, 'fulfilments'>,
  courier: Pick<CourierState, 'shipmentIds'>,
): Promise<FulfilmentState[]> {
  return deps.fulfilments.findMany(courier.shipmentIds.flatMap((id) => fulfilmentIdOfShipment(id) ?? []));
}

/** The courier goes on or off shift, optionally saying where it is. */
export async function setCourierAvailability(
  deps: Deps,
  input: { courierId: string; available: boolean; point?: GeoPoint },
  { caller }: CallerOption = {},
): Promise<CourierState> {
  checkCourierCall(caller);
  const c = checks().id('courier_id', input.courierId);
  if (input.point) {
    const { latitude, longitude } = input.point;
    c.that(Number.isFinite(latitude) && Math.abs(latitude) <= 90, 'point.latitude', 'must be -90..90');
    c.that(Number.isFinite(longitude) && Math.abs(longitude) <= 180, 'point.longitude', 'must be -180..180');
  }
  c.done();
  const now = deps.clock.now();
  const fix = input.point ? { point: input.point, time: now, speedMps: 0, headingDeg: 0, accuracyM: 0 } : undefined;
  return deps.couriers.setAvailability(input.courierId, input.available, fix, now);
}
