// PlaceOrder: validate, store the order (PENDING, pricing queued) under its placement key, run the saga inline.
import { requestFingerprint } from '@o2o/kit-grpc';
import { OrderError } from '../domain/errors';
import { Order } from '../domain/order';
import { type Placement, validatePlacement } from '../domain/placement';
import type { OrderState, PlacementInput } from '../domain/types';
import { type CallerOption, checkPlacement, maySee } from './access';
import { checkPlacementLocations } from './locations';
import type { Deps } from './ports';
import { keepSecrets, runTasks } from './run-tasks';

/** How long a repeated request waits for the first one's saga before answering with the order as it is. */
const REPEAT_WAIT_MS = 10_000;

/**
 * Places an order and answers with it as the saga left it. A repeat (same request id; for marketplaces the same
 * partner order) returns the same order; the same key with other content is refused with ALREADY_EXISTS. A caller
 * with a principal may place only its own kind of order (access.ts), checked before anything is written or called.
 */
export async function placeOrder(
  deps: Deps,
  input: PlacementInput,
  { caller }: CallerOption = {},
): Promise<OrderState> {
  const placement = validatePlacement(input);
  checkPlacement(caller, placement);
  const key = placementKey(placement);
  const fingerprint = fingerprintOf(placement);
  try {
    await checkPlacementLocations(deps, placement);
  } catch (error) {
    // A repeat of a placement whose store has closed since still answers with its order.
    const existing = await deps.orders.findByPlacementKey(key);
    if (existing?.fingerprint === fingerprint && maySee(caller, existing.state))
      return repeatOf(deps, existing.state, {});
    throw error;
  }
  const now = deps.clock.now();
  const { order, events } = Order.place(deps.newId(), placement, now, deps.policy);
  const lease = { owner: deps.runnerId, until: new Date(now.getTime() + deps.leaseMs) };
  const secrets = placement.cardNumber ? { cardNumber: placement.cardNumber } : {};

  if ((await deps.orders.insert(order, events, { placementKey: key, fingerprint, lease })) === 'inserted') {
    deps.afterWrite(order.id);
    // Kept before the saga runs, in case it does not finish within the call (a dependency down): the recovery loop
    // of this process then goes on with the card it needs. Forgotten once the placement settles.
    keepSecrets(deps, order.id, secrets, order.snapshot().placementDeadline);
    return (await runTasks(deps, order.id, { secrets, claimed: true })) ?? (await mustGet(deps, order.id));
  }
  const existing = await deps.orders.findByPlacementKey(key);
  if (!existing) throw new OrderError('aborted', 'The order is being placed concurrently: retry with the same request');
  // A replay never reveals an order the caller may not see: not its id, not its content. (With the placement rules
  // a matching fingerprint is always the caller's own order; this holds even if those rules change.)
  const visible = maySee(caller, existing.state);
  if (existing.fingerprint !== fingerprint || !visible) {
    const what = placement.marketplace
      ? `Partner order "${placement.marketplace.externalOrderId}" of "${placement.marketplace.partnerId}"`
      : `Request "${placement.requestId}"`;
    const message = visible
      ? `${what} already placed order "${existing.state.id}" with other content`
      : `${what} was already used`;
    throw new OrderError('already-exists', message);
  }
  return repeatOf(deps, existing.state, secrets);
}

/** A repeat: resume the saga if nobody runs it (with this request's card, if the first one's was lost), or wait. */
async function repeatOf(deps: Deps, state: OrderState, secrets: { cardNumber?: string }): Promise<OrderState> {
  if (state.status !== 'PENDING') return state;
  keepSecrets(deps, state.id, secrets, state.placementDeadline);
  const resumed = await runTasks(deps, state.id, { secrets });
  if (resumed && resumed.status !== 'PENDING') return resumed;
  const until = Date.now() + REPEAT_WAIT_MS;
  let current = resumed ?? state;
  while (current.status === 'PENDING' && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    current = await mustGet(deps, state.id);
  }
  return current;
}

async function mustGet(deps: Deps, id: string): Promise<OrderState> {
  const state = await deps.orders.get(id);
  if (!state) throw new OrderError('not-found', `Order "${id}" does not exist`);
  return state;
}

/** Marketplace orders are one per partner order whatever the request id; others one per request id. */
function placementKey(p: Placement): string {
  return p.marketplace ? `mp:${p.marketplace.partnerId}:${p.marketplace.externalOrderId}` : `rq:${p.requestId}`;
}

/** What makes two requests "the same": everything but the card number (only its last four digits count). */
function fingerprintOf(p: Placement): string {
  const { cardNumber: _secret, requestId, ...content } = p;
  return requestFingerprint(p.marketplace ? content : { requestId, ...content });
}
