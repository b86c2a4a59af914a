// The rules of re-routing a fulfilment group whose location did not accept its task in time, as pure functions of
// the order's state; the aggregate (order.ts) applies them. See docs/orders.md, "Re-routing".
import { FINAL_STATUSES } from './lifecycle';
import type { Allocation, FulfilmentGroup, OrderState, TaskOutcome } from './types';

/** Why a group is re-routed: its location did not accept its task by the deadline. */
export const NOT_ACCEPTED_IN_TIME = 'not accepted in time';

/**
 * How a re-route ended, for metrics: done; no single other location could take the group (or its stock went); not
 * allowed (a pick-up group, re-routing off, the order's limit reached); discarded (accepted or cancelled meanwhile).
 */
export type RerouteOutcome = 'rerouted' | 'no_location' | 'not_allowed' | 'discarded';

/** Every location a group and the groups it replaced were at: a re-route of it must go elsewhere. */
export function locationsTried(state: Pick<OrderState, 'groups'>, groupId: string): string[] {
  const seen: string[] = [];
  const visited = new Set<string>();
  for (let g = state.groups.find((x) => x.id === groupId); g && !visited.has(g.id);) {
    visited.add(g.id);
    if (!seen.includes(g.locationId)) seen.push(g.locationId);
    const previous: string | undefined = g.replaces;
    g = previous ? state.groups.find((x) => x.id === previous) : undefined;
  }
  return seen;
}

/** Re-routes of the order so far: done, and queued (not yet run or still running). */
export function reroutesSoFar(state: Pick<OrderState, 'groups' | 'tasks'>): number {
  return (
    state.groups.filter((g) => g.status === 'REROUTED').length + state.tasks.filter((t) => t.kind === 'REROUTE').length
  );
}

/** Why re-routing `group` no longer applies (accepted meanwhile, or the order ended), or undefined while it does. */
export function rerouteGone(state: Pick<OrderState, 'status'>, group: FulfilmentGroup): string | undefined {
  if (FINAL_STATUSES.has(state.status)) return `the order is ${state.status.toLowerCase()}`;
  if (group.status !== 'CONFIRMED') return `it is ${group.status.toLowerCase().replaceAll('_', ' ')} now`;
  return undefined;
}

/**
 * The one allocation a re-route plan offers for `group`, or why it cannot be used: several locations, none, one the
 * group (or a predecessor) already was at, or items that are not exactly the group's.
 */
export function reroutePlanChoice(
  state: Pick<OrderState, 'groups'>,
  group: FulfilmentGroup,
  outcome: TaskOutcome,
): { allocation: Allocation } | { problem: string } {
  if (outcome.kind !== 'planned') {
    return { problem: outcome.kind === 'refused' ? outcome.reason : `unexpected answer "${outcome.kind}"` };
  }
  const [only, ...more] = outcome.allocations;
  if (!only) return { problem: 'no location has every item' };
  if (more.length > 0) {
    const where = outcome.allocations.map((a) => a.locationId).join(', ');
    return { problem: `no single location has every item (the plan needs ${where})` };
  }
  if (locationsTried(state, group.id).includes(only.locationId)) {
    return { problem: `the plan chose ${only.locationId}, where the group already was` };
  }
  const planned = new Map(only.items.map((i) => [i.skuCode, i.quantity]));
  const exact = planned.size === group.items.length && group.items.every((i) => planned.get(i.skuCode) === i.quantity);
  return exact ? { allocation: only } : { problem: "the plan does not cover the group's items exactly" };
}

/** The next group id no group has and no re-route reserved (g1, g2, ...), so a new hold id is never reused. */
export function nextGroupId(groups: readonly Pick<FulfilmentGroup, 'id' | 'rerouteTo'>[]): string {
  let max = 0;
  for (const g of groups) {
    for (const id of [g.id, g.rerouteTo]) {
      const n = /^g(\d+)$/.exec(id ?? '')?.[1];
      if (n) max = Math.max(max, Number(n));
    }
  }
  return `g${max + 1}`;
}
