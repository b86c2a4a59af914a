import { locationsTried, nextGroupId, reroutePlanChoice, rerouteGone, reroutesSoFar } from './reroute';
import type { FulfilmentGroup, Task } from './types';

function group(id: string, locationId: string, extra: Partial<FulfilmentGroup> = {}): FulfilmentGroup {
  return {
    id,
    type: 'HOME_DELIVERY',
    locationId,
    items: [{ skuCode: 'A', quantity: 2 }],
    status: 'CONFIRMED',
    holdId: `o-1.${id}`,
    sameDay: true,
    distanceM: 900,
    amount: { currency: 'CNY', amountMinor: 2000 },
    captured: false,
    dispatched: false,
    ...extra,
  };
}

describe('re-routing rules', () => {
  const chain = [
    group('g1', 'wh-1', { status: 'REROUTED', rerouteTo: 'g3' }),
    group('g2', 'store-7'),
    group('g3', 'store-3', { status: 'REROUTED', replaces: 'g1', rerouteTo: 'g4' }),
    group('g4', 'wh-1', { replaces: 'g3' }),
  ];

  it('excludes every location of the group and the groups it replaced, once each, and no other group', () => {
    expect(locationsTried({ groups: chain }, 'g4')).toEqual(['wh-1', 'store-3']);
    expect(locationsTried({ groups: chain }, 'g2')).toEqual(['store-7']);
    expect(locationsTried({ groups: chain }, 'g9')).toEqual([]);
    // A (corrupt) cycle ends.
    const cycle = [group('g1', 'a', { replaces: 'g2' }), group('g2', 'b', { replaces: 'g1' })];
    expect(locationsTried({ groups: cycle }, 'g1')).toEqual(['a', 'b']);
  });

  it('never hands out a group id a group has or a re-route reserved', () => {
    expect(nextGroupId([])).toBe('g1');
    expect(nextGroupId(chain)).toBe('g5');
    expect(nextGroupId([group('g1', 'a', { rerouteTo: 'g7' }), group('g2', 'b')])).toBe('g8');
  });

  it('counts re-routes done and queued', () => {
    const queued = { kind: 'REROUTE', groupId: 'g2', toGroupId: 'g5', reason: 'r', id: 9, attempts: 0 } as Task;
    expect(reroutesSoFar({ groups: chain, tasks: [] })).toBe(2);
    expect(reroutesSoFar({ groups: chain, tasks: [queued] })).toBe(3);
  });

  it('applies only while the group waits for acceptance and the order is live', () => {
    expect(rerouteGone({ status: 'CONFIRMED' }, group('g1', 'a'))).toBeUndefined();
    expect(rerouteGone({ status: 'IN_FULFILLMENT' }, group('g1', 'a', { status: 'IN_FULFILLMENT' }))).toBe(
      'it is in fulfillment now',
    );
    expect(rerouteGone({ status: 'CANCELLED' }, group('g1', 'a', { status: 'CANCELLED' }))).toBe(
      'the order is cancelled',
    );
  });

  it('takes one allocation elsewhere that covers the group exactly; anything else is a problem', () => {
    const g4 = chain[3]!;
    const at = (locationId: string, quantity = 2) => ({
      locationId,
      items: [{ skuCode: 'A', quantity }],
      distanceM: 100,
      sameDay: true,
    });
    const choose = (allocations: ReturnType<typeof at>[]) =>
      reroutePlanChoice({ groups: chain }, g4, { kind: 'planned', allocations });
    expect(choose([at('store-9')])).toEqual({ allocation: at('store-9') });
    expect(choose([])).toEqual({ problem: 'no location has every item' });
    expect(choose([at('store-9', 1), at('store-8', 1)])).toEqual({
      problem: 'no single location has every item (the plan needs store-9, store-8)',
    });
    expect(choose([at('store-3')])).toEqual({ problem: 'the plan chose store-3, where the group already was' });
    expect(choose([at('store-9', 3)])).toEqual({ problem: "the plan does not cover the group's items exactly" });
    expect(reroutePlanChoice({ groups: chain }, g4, { kind: 'refused', reason: 'nothing anywhere' })).toEqual({
      problem: 'nothing anywhere',
    });
  });
});
