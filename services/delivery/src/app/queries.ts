// Reads: one fulfilment, and a location's work queue.
import { DeliveryError } from '../domain/errors';
import { fulfilmentIdFor } from '../domain/fulfilment';
import type { FulfilmentState, TaskStatus } from '../domain/types';
import { type CallerOption, checkActsFor, maySeeFulfilment } from './access';
import type { Deps, Page } from './ports';
import { checks } from './validate';

/** One fulfilment by id, or by order id and group id; NOT_FOUND as well when the caller may not see it. */
export async function getFulfilment(
  deps: Deps,
  input: { fulfilmentId: string; orderId: string; groupId: string },
  { caller }: CallerOption = {},
): Promise<FulfilmentState> {
  const byId = input.fulfilmentId !== '';
  const c = checks();
  if (byId) {
    c.id('fulfilment_id', input.fulfilmentId).that(
      input.orderId === '' && input.groupId === '',
      'fulfilment_id',
      'give either fulfilment_id or order_id and group_id',
    );
  } else {
    c.id('order_id', input.orderId).id('group_id', input.groupId);
  }
  c.done();
  const id = byId ? input.fulfilmentId : fulfilmentIdFor(input.orderId, input.groupId);
  const state = await deps.fulfilments.find(id);
  if (!state || !maySeeFulfilment(caller, state))
    throw new DeliveryError('not-found', `Fulfilment "${id}" does not exist`);
  return state;
}

/** A location's fulfilments, oldest first; a caller must act for the location. */
export async function listFulfilments(
  deps: Deps,
  input: { locationId: string; statuses: TaskStatus[]; page: { size: number; after?: string } },
  { caller }: CallerOption = {},
): Promise<Page<FulfilmentState>> {
  checks().id('location_id', input.locationId).done();
  checkActsFor(caller, input.locationId);
  return deps.fulfilments.listByLocation(input.locationId, { statuses: input.statuses }, input.page);
}
