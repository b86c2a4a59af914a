// What a courier does with a shipment: answer the offer, collect, leave, deliver with the shopper's code, or fail.
import { DeliveryError } from '../domain/errors';
import type { FulfilmentState } from '../domain/types';
import { type CallerOption, checkCourierCall } from './access';
import { changeFulfilment } from './change-fulfilment';
import { dispatchShipment } from './dispatch';
import type { Deps } from './ports';
import { codeCheck } from './task-commands';
import { checks } from './validate';

/** Shipment id and courier id of a courier's command. */
export interface CourierCommand {
  shipmentId: string;
  courierId: string;
}

/** The courier takes the shipment offered to it. */
export async function acceptAssignment(
  deps: Deps,
  input: CourierCommand,
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  const id = await fulfilmentOf(deps, caller, input);
  const { state } = await changeFulfilment(deps, id, (f) => f.acceptAssignment(input.courierId, deps.clock.now()));
  return state;
}

/** The courier turns the offer down; the next courier is offered the shipment at once. */
export async function declineAssignment(
  deps: Deps,
  input: CourierCommand & { reason: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  const id = await fulfilmentOf(deps, caller, input, (c) =>
    c.that(input.reason.length <= 200, 'reason', 'must be at most 200 characters'),
  );
  await changeFulfilment(deps, id, (f) => f.declineOffer(input.courierId, deps.clock.now()));
  await dispatchShipment(deps, id).catch(() => undefined);
  return (await deps.fulfilments.find(id)) as FulfilmentState;
}

/** The courier collected the parcel at the location. */
export async function confirmCollection(
  deps: Deps,
  input: CourierCommand,
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  const id = await fulfilmentOf(deps, caller, input);
  const { state } = await changeFulfilment(deps, id, (f) => f.confirmCollection(input.courierId, deps.clock.now()));
  return state;
}

/** The courier leaves for the shopper. */
export async function startDelivery(
  deps: Deps,
  input: CourierCommand,
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  const id = await fulfilmentOf(deps, caller, input);
  const { state } = await changeFulfilment(deps, id, (f) => f.startDelivery(input.courierId, deps.clock.now()));
  return state;
}

/** Proof of delivery: the shopper's code. A wrong code is refused and counts towards the lock. */
export async function confirmDelivery(
  deps: Deps,
  input: CourierCommand & { code: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  const id = await fulfilmentOf(deps, caller, input, (c) => c.code('code', input.code));
  const { result, state } = await changeFulfilment(deps, id, (f) =>
    f.confirmDelivery(input.courierId, input.code, codeCheck(deps.codeSecret, id), deps.clock.now()),
  );
  if (result === 'wrong-code') {
    throw new DeliveryError('permission-denied', `Wrong delivery code for shipment "${input.shipmentId}"`);
  }
  return state;
}

/** The courier could not deliver. */
export async function reportDeliveryFailure(
  deps: Deps,
  input: CourierCommand & { reason: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  const id = await fulfilmentOf(deps, caller, input, (c) => c.text('reason', input.reason, 200));
  const { state } = await changeFulfilment(deps, id, (f) =>
    f.failDelivery(input.courierId, input.reason.trim(), deps.clock.now()),
  );
  return state;
}

// Checks the ids (and whatever else the command adds), then finds the shipment's fulfilment.
async function fulfilmentOf(
  deps: Deps,
  caller: CallerOption['caller'],
  input: CourierCommand,
  more: (c: ReturnType<typeof checks>) => void = () => undefined,
): Promise<string> {
  // Couriers do not come through the gateway: refused before anything is read.
  checkCourierCall(caller);
  const c = checks().id('shipment_id', input.shipmentId).id('courier_id', input.courierId);
  more(c);
  c.done();
  const state = await deps.fulfilments.findByShipment(input.shipmentId);
  if (!state) throw new DeliveryError('not-found', `Shipment "${input.shipmentId}" does not exist`);
  return state.id;
}
