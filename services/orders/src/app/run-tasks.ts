// Runs an order's queued tasks, one at a time, while holding a claim on the order. Placement, compensations,
// captures and refunds all go through here; the recovery loop calls it for orders a crashed runner left behind.
import type { Order } from '../domain/order';
import type { OrderState } from '../domain/types';
import { executeTask } from './execute-task';
import type { Deps, PlacementSecrets } from './ports';

/** Inline retries stop once a task's backoff is longer than this, or the run took longer than RUN_BUDGET_MS. */
const INLINE_RETRY_MAX_WAIT_MS = 1_000;
const RUN_BUDGET_MS = 8_000;

/**
 * Runs the order's tasks until none is left, one needs a longer wait (the recovery loop resumes it), or another
 * runner holds the order. Returns the order as it was left, or undefined when another runner holds it.
 */
export async function runTasks(
  deps: Deps,
  orderId: string,
  options: { secrets?: PlacementSecrets; claimed?: boolean } = {},
): Promise<OrderState | undefined> {
  // One runner per order in this process (claims are per process): a second caller asks the running one to look
  // again before it stops, so tasks queued meanwhile are not left for the recovery loop.
  const local = runningIn(deps);
  const mine = local.get(orderId);
  if (mine && !options.secrets) {
    mine.again = true;
    return undefined;
  }
  const marker = { again: false };
  local.set(orderId, marker);
  const secrets = options.secrets ?? keptSecrets(deps, orderId);
  const run = secrets ? { ...options, secrets } : options;
  try {
    for (let round = 0; ; round++) {
      marker.again = false;
      // Only the first round may rely on a claim taken by the caller; the round before gave it up.
      const state = await runClaimed(deps, orderId, round === 0 ? run : { ...run, claimed: false });
      if (state && state.status !== 'PENDING') secretsOf(deps).delete(orderId);
      if (!marker.again || !state) return state;
    }
  } finally {
    if (local.get(orderId) === marker) local.delete(orderId);
  }
}

/**
 * Card numbers of placements whose saga could not finish within the PlaceOrder call (a dependency down for a few
 * seconds): kept in this process's memory only, never written, until the placement settles or its deadline passes,
 * so the recovery loop can still charge the card when the dependency is back. A crash loses them, and then the saga
 * gives up as before (authorize: "the placement was interrupted before the card was charged").
 */
const kept = new Map<string, Map<string, { secrets: PlacementSecrets; until: number }>>();

function secretsOf(deps: Deps): Map<string, { secrets: PlacementSecrets; until: number }> {
  let map = kept.get(deps.runnerId);
  if (!map) kept.set(deps.runnerId, (map = new Map<string, { secrets: PlacementSecrets; until: number }>()));
  return map;
}

/** Keeps a PENDING placement's secrets for the recovery loop until `until` (the placement deadline). */
export function keepSecrets(deps: Deps, orderId: string, secrets: PlacementSecrets, until: Date): void {
  if (!secrets.cardNumber) return;
  const map = secretsOf(deps);
  const now = deps.clock.now().getTime();
  for (const [id, entry] of map) if (entry.until <= now) map.delete(id);
  map.set(orderId, { secrets, until: until.getTime() });
}

function keptSecrets(deps: Deps, orderId: string): PlacementSecrets | undefined {
  const entry = secretsOf(deps).get(orderId);
  if (!entry) return undefined;
  if (entry.until > deps.clock.now().getTime()) return entry.secrets;
  secretsOf(deps).delete(orderId);
  return undefined;
}

// Per runner (one per process): the process passes copies of its deps around (the gRPC handlers get theirs with a
// logger added), so the runner id, not the deps object, says which process a call belongs to.
const running = new Map<string, Map<string, { again: boolean }>>();

function runningIn(deps: Deps): Map<string, { again: boolean }> {
  let map = running.get(deps.runnerId);
  if (!map) running.set(deps.runnerId, (map = new Map<string, { again: boolean }>()));
  return map;
}

async function runClaimed(
  deps: Deps,
  orderId: string,
  options: { secrets?: PlacementSecrets; claimed?: boolean },
): Promise<OrderState | undefined> {
  const started = Date.now();
  const lease = () => ({ owner: deps.runnerId, until: new Date(deps.clock.now().getTime() + deps.leaseMs) });
  if (!options.claimed && !(await deps.orders.claim(orderId, lease(), deps.clock.now()))) return undefined;
  // The claim is renewed once half of it has passed, not at every task: one write less per task.
  let renewAt = Date.now() + deps.leaseMs / 2;
  try {
    // Read once; afterwards each update answers with the state it wrote (a lost race reloads inside update()).
    let state = await deps.orders.get(orderId);
    for (;;) {
      if (!state) return undefined;
      const task = state.tasks[0];
      if (!task) return state;
      const now = deps.clock.now();
      const wait = (state.nextRunAt?.getTime() ?? 0) - now.getTime();
      if (wait > 0) {
        if (wait > INLINE_RETRY_MAX_WAIT_MS || Date.now() - started > RUN_BUDGET_MS) return state;
        await new Promise((r) => setTimeout(r, wait));
      }
      if (Date.now() >= renewAt) {
        if (!(await deps.orders.claim(orderId, lease(), deps.clock.now()))) return undefined;
        renewAt = Date.now() + deps.leaseMs / 2;
      }
      const outcome = await executeSafely(deps, state, task, options.secrets);
      const before: OrderState = state;
      const {
        state: after,
        result: { events, reroutes },
      } = await deps.orders.update(
        orderId,
        (order: Order) => {
          const events = order.completeTask(task.id, outcome, deps.clock.now(), deps.policy);
          return { events, result: { events, reroutes: order.takeRerouteOutcomes() } };
        },
        before,
      );
      if (events.length > 0) deps.afterWrite(orderId);
      for (const rerouted of reroutes) deps.onReroute?.(rerouted);
      if (before.status === 'PENDING' && after.status !== 'PENDING') {
        deps.onPlacementSettled?.(after, (deps.clock.now().getTime() - after.createdAt.getTime()) / 1000);
      }
      state = after;
    }
  } finally {
    await deps.orders.unclaim(orderId, deps.runnerId).catch(() => undefined);
  }
}

/** Runs due tasks of orders nobody holds (a crashed runner's, or ones waiting for a retry); returns how many ran. */
export async function recoverDue(deps: Deps, limit: number): Promise<number> {
  const ids = await deps.orders.due(deps.clock.now(), limit);
  let ran = 0;
  for (const id of ids) {
    try {
      if (await runTasks(deps, id)) ran += 1;
    } catch (error) {
      deps.onTaskError(id, error);
    }
  }
  return ran;
}

/** Starts running an order's tasks in the background (after a command queued some); errors are reported, not thrown. */
export function kickTasks(deps: Deps, orderId: string): void {
  runTasks(deps, orderId).catch((error: unknown) => deps.onTaskError(orderId, error));
}

async function executeSafely(
  deps: Deps,
  state: OrderState,
  task: OrderState['tasks'][number],
  secrets?: PlacementSecrets,
) {
  try {
    return await executeTask(deps, state, task, secrets);
  } catch (error) {
    deps.onTaskError(state.id, error);
    return { kind: 'retry' as const, error: error instanceof Error ? error.message : String(error) };
  }
}
