// What the location's staff and the shopper do with a fulfilment's task: accept, pick, pack, hand over.
import { DeliveryError } from '../domain/errors';
import type { CodeCheck } from '../domain/fulfilment';
import { codeMatches, handoverCode, type CodePurpose, qrPayload, readQrPayload } from './handover-code';
import type { FulfilmentState } from '../domain/types';
import { type CallerOption, checkActsFor, mayReadHandoverCode, maySeeFulfilment } from './access';
import { changeFulfilment } from './change-fulfilment';
import type { Deps } from './ports';
import { dispatchShipment } from './dispatch';
import { checks } from './validate';

/** The location accepts the task; a delivery group's shipment is created and offered to a courier at once. */
export async function acceptTask(
  deps: Deps,
  input: { fulfilmentId: string; locationId: string; associateId: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  checks()
    .id('fulfilment_id', input.fulfilmentId)
    .id('location_id', input.locationId)
    .optionalId('associate_id', input.associateId)
    .done();
  checkActsFor(caller, input.locationId);
  const { state } = await changeFulfilment(deps, input.fulfilmentId, (f) =>
    f.accept(
      { locationId: input.locationId, ...(input.associateId ? { associateId: input.associateId } : {}) },
      deps.clock.now(),
    ),
  );
  if (state.shipment?.status === 'AWAITING_COURIER' && !state.shipment.offer) {
    // Best effort: the sweeper dispatches anything this misses.
    await dispatchShipment(deps, state.id).catch(() => undefined);
    return (await deps.fulfilments.find(state.id)) ?? state;
  }
  return state;
}

/** Every item is picked. */
export async function markPicked(
  deps: Deps,
  input: { fulfilmentId: string; locationId: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  checks().id('fulfilment_id', input.fulfilmentId).id('location_id', input.locationId).done();
  checkActsFor(caller, input.locationId);
  const { state } = await changeFulfilment(deps, input.fulfilmentId, (f) => f.markPicked(input, deps.clock.now()));
  return state;
}

/** Packed and ready (a pick-up's code is issued). */
export async function markReady(
  deps: Deps,
  input: { fulfilmentId: string; locationId: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  checks().id('fulfilment_id', input.fulfilmentId).id('location_id', input.locationId).done();
  checkActsFor(caller, input.locationId);
  const { state } = await changeFulfilment(deps, input.fulfilmentId, (f) => f.markReady(input, deps.clock.now()));
  return state;
}

/** The shopper collects at the store: by fulfilment id and code, or by the scanned QR payload. */
export async function verifyPickup(
  deps: Deps,
  input: { locationId: string; fulfilmentId: string; code: string; qrPayload: string; associateId: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  let fulfilmentId = input.fulfilmentId;
  let code = input.code;
  const c = checks().id('location_id', input.locationId).optionalId('associate_id', input.associateId);
  if (input.qrPayload !== '') {
    const scanned = readQrPayload(input.qrPayload, 'pickup');
    c.that(scanned !== undefined, 'qr_payload', 'is not a pick-up QR code');
    c.that(
      input.fulfilmentId === '' && input.code === '',
      'qr_payload',
      'give either qr_payload or fulfilment_id and code',
    );
    if (scanned) ({ fulfilmentId, code } = scanned);
  } else {
    c.id('fulfilment_id', fulfilmentId).code('code', code);
  }
  c.done();
  checkActsFor(caller, input.locationId);
  const { result } = await changeFulfilment(deps, fulfilmentId, (f) =>
    f.verifyPickup(
      { locationId: input.locationId, code, ...(input.associateId ? { associateId: input.associateId } : {}) },
      codeCheck(deps.codeSecret, fulfilmentId),
      deps.clock.now(),
    ),
  );
  if (result === 'wrong-code') {
    throw new DeliveryError('permission-denied', `Wrong pick-up code for fulfilment "${fulfilmentId}"`);
  }
  return (await deps.fulfilments.find(fulfilmentId)) as FulfilmentState;
}

/** The code the shopper hands over, with its QR payload: the pick-up code, or the delivery code for the courier. */
export async function getHandoverCode(
  deps: Deps,
  input: { fulfilmentId: string },
  { caller }: CallerOption = {},
): Promise<{ code: string; qrPayload: string; expiresAt?: Date }> {
  checks().id('fulfilment_id', input.fulfilmentId).done();
  const state = await deps.fulfilments.find(input.fulfilmentId);
  if (!state || !maySeeFulfilment(caller, state))
    throw new DeliveryError('not-found', `Fulfilment "${input.fulfilmentId}" does not exist`);
  if (!mayReadHandoverCode(caller, state)) {
    throw new DeliveryError('permission-denied', 'Permission denied: only the buyer reads the handover code');
  }
  const refuse = (why: string) =>
    new DeliveryError('failed-precondition', `No handover code for fulfilment "${state.id}": ${why}`);
  let purpose: CodePurpose;
  let nonce: string;
  let expiresAt: Date | undefined;
  if (state.type === 'STORE_PICKUP') {
    if (!state.pickup) throw refuse('it is not ready for pick-up yet');
    if (state.task.status !== 'READY')
      throw refuse(`the pick-up is ${state.task.status.toLowerCase().replace('_', ' ')}`);
    if (state.pickup.expiresAt.getTime() <= deps.clock.now().getTime()) throw refuse('the pick-up expired');
    purpose = 'pickup';
    nonce = state.pickup.code.nonce;
    expiresAt = state.pickup.expiresAt;
  } else {
    const s = state.shipment;
    if (!s) throw refuse('its shipment does not exist yet');
    if (s.status === 'DELIVERED' || s.status === 'FAILED' || s.status === 'CANCELLED') {
      throw refuse(`the shipment is ${s.status.toLowerCase()}`);
    }
    purpose = 'delivery';
    nonce = s.code.nonce;
  }
  const code = handoverCode(deps.codeSecret, { fulfilmentId: state.id, purpose, nonce });
  return { code, qrPayload: qrPayload(purpose, state.id, code), ...(expiresAt ? { expiresAt } : {}) };
}

/** Compares a given code with the fulfilment's code for a purpose. */
export function codeCheck(secret: string, fulfilmentId: string): CodeCheck {
  return (purpose, nonce, given) => codeMatches(handoverCode(secret, { fulfilmentId, purpose, nonce }), given);
}
