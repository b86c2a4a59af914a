// Inventory as the order sees it: sourcing plans, holds per fulfilment group, restocks of returns, locations.
import { status } from '@grpc/grpc-js';
import {
  AdjustmentReason,
  FulfilmentType as PbFulfilmentType,
  type Hold,
  HoldStatus,
  InventoryServiceClient,
  InventoryServiceService,
  LocationKind,
  LocationStatus,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { asyncClient, type AsyncClient, channelCredentials, channelOptions } from '@o2o/kit-grpc';
import type { HoldRequest, InventoryPort, Refused, Retry } from '../app/ports';
import type { FulfilmentType, Shortage } from '../domain/types';
import {
  answerCount,
  callFailure,
  DEFAULT_DEADLINE_MS,
  type DownstreamOptions,
  downstreamStatus,
} from './downstream-status';

/** Inventory keeps at most this many characters of a release reason or an adjustment note. */
const MAX_TEXT = 500;

const FULFILMENT_TO_PB: Record<FulfilmentType, PbFulfilmentType> = {
  HOME_DELIVERY: PbFulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
  SHIP_FROM_STORE: PbFulfilmentType.FULFILMENT_TYPE_SHIP_FROM_STORE,
  STORE_PICKUP: PbFulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
  IN_STORE_CARRY_OUT: PbFulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT,
};

type Inventory = AsyncClient<typeof InventoryServiceService>;
type Call = { deadlineMs: number };

/** The inventory port over gRPC, and close() for its channel. */
export function inventoryClient(options: DownstreamOptions): InventoryPort & { close(): void } {
  const raw = new InventoryServiceClient(options.address, channelCredentials(), channelOptions());
  const client = asyncClient(raw, InventoryServiceService);
  const call: Call = { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS };
  const failed = (error: unknown) => downstreamStatus('inventory', error);
  return {
    async plan(query) {
      try {
        const plan = await client.planFulfilment(
          {
            items: query.items.map((i) => ({ skuCode: i.skuCode, quantity: String(i.quantity) })),
            fulfilmentType: FULFILMENT_TO_PB[query.type],
            deliveryPoint: query.deliveryPoint,
            storeLocationId: query.storeLocationId ?? '',
            maxDistanceM: 0,
            excludeLocationIds: query.excludeLocationIds ?? [],
          },
          call,
        );
        if (!plan.feasible) {
          const missing = plan.unallocated.map((i) => `${i.quantity} × SKU "${i.skuCode}"`).join(', ');
          return { kind: 'refused', reason: `No plan covers every item; unallocated: ${missing}` };
        }
        return {
          kind: 'planned',
          allocations: plan.allocations.map((a) => ({
            locationId: a.locationId,
            items: a.items.map((i) => ({ skuCode: i.skuCode, quantity: answerCount(i.quantity, 'items.quantity') })),
            distanceM: answerCount(a.distanceM, 'distance_m'),
            sameDay: a.sameDay,
          })),
        };
      } catch (error) {
        return failed(error);
      }
    },

    async reserve(request) {
      try {
        const { hold } = await client.reserve(
          {
            holdId: request.holdId,
            ownerId: request.ownerId,
            lines: request.lines.map((l) => ({ ...l, quantity: String(l.quantity) })),
            expireTime: request.expiresAt,
          },
          call,
        );
        return holdOutcome(hold);
      } catch (error) {
        // Short stock is FAILED_PRECONDITION, as are a closed location and a discontinued SKU: tell them apart by
        // what inventory knows rather than by parsing its message.
        if (callFailure(error).code !== status.FAILED_PRECONDITION) return failed(error);
        return shortOrRefused(client, call, request, failed(error));
      }
    },

    async extend(holdId, expiresAt) {
      try {
        await client.extendHold({ holdId, expireTime: expiresAt }, call);
        return { kind: 'done' };
      } catch (error) {
        return failed(error);
      }
    },

    async commit(holdId) {
      try {
        // A committed hold answers OK again, so a repeat after a lost answer is done.
        await client.commitHold({ holdId }, call);
        return { kind: 'done' };
      } catch (error) {
        return failed(error);
      }
    },

    async release(holdId, reason) {
      try {
        // Inventory answers a released, expired or failed hold unchanged (OK).
        await client.releaseHold({ holdId, reason: reason.slice(0, MAX_TEXT) }, call);
        return { kind: 'done' };
      } catch (error) {
        const { code } = callFailure(error);
        // NOT_FOUND: a Reserve refused before anything was written leaves no hold, so there is nothing to give back.
        // FAILED_PRECONDITION: the only state release refuses is COMMITTED (the goods left), which holds nothing.
        if (code === status.NOT_FOUND || code === status.FAILED_PRECONDITION) return { kind: 'done' };
        return failed(error);
      }
    },

    async restock(request) {
      try {
        // Idempotent by request id: a repeat answers applied=false and moves nothing, which is done as well.
        await client.adjustStock(
          {
            requestId: request.requestId,
            skuCode: request.skuCode,
            locationId: request.locationId,
            reason: AdjustmentReason.ADJUSTMENT_REASON_RETURN_RESTOCK,
            quantity: String(request.quantity),
            note: request.note.slice(0, MAX_TEXT),
          },
          call,
        );
        return { kind: 'done' };
      } catch (error) {
        return failed(error);
      }
    },

    async location(id) {
      try {
        const { location } = await client.getLocation({ locationId: id }, call);
        if (!location) return undefined;
        return {
          id: location.id,
          open: location.status === LocationStatus.LOCATION_STATUS_OPEN,
          acceptsReturns: location.capabilities?.acceptsReturns ?? false,
          isStore: location.kind === LocationKind.LOCATION_KIND_STORE,
        };
      } catch (error) {
        if (callFailure(error).code === status.NOT_FOUND) return undefined;
        const outcome = failed(error);
        throw new Error(outcome.kind === 'retry' ? outcome.error : `inventory refused: ${outcome.reason}`);
      }
    },

    close: () => raw.close(),
  };
}

/** What a hold in an answer means for the order. */
function holdOutcome(
  hold: Hold | undefined,
): { kind: 'held' } | { kind: 'short'; shortages: Shortage[] } | Refused | Retry {
  if (!hold) throw new Error('Malformed answer: Reserve answered no hold');
  switch (hold.status) {
    case HoldStatus.HOLD_STATUS_ACTIVE:
    case HoldStatus.HOLD_STATUS_COMMITTED:
      // A repeat after the goods left: it was held.
      return { kind: 'held' };
    case HoldStatus.HOLD_STATUS_PENDING:
      return { kind: 'retry', error: `inventory: hold "${hold.id}" is still being applied` };
    case HoldStatus.HOLD_STATUS_FAILED:
      return { kind: 'short', shortages: shortagesOf(hold) };
    case HoldStatus.HOLD_STATUS_RELEASED:
    case HoldStatus.HOLD_STATUS_EXPIRED:
      // A repeat long after the hold ended: it holds nothing any more, and the same hold id cannot hold again.
      return { kind: 'refused', reason: `Hold "${hold.id}" is ${HoldStatus[hold.status].slice(12).toLowerCase()}` };
    case HoldStatus.HOLD_STATUS_UNSPECIFIED:
    case HoldStatus.UNRECOGNIZED:
      throw new Error(`Malformed answer: hold "${hold.id}" has status ${hold.status}`);
  }
}

function shortagesOf(hold: Hold): Shortage[] {
  return hold.shortages.map((s) => ({
    skuCode: s.skuCode,
    locationId: s.locationId,
    requested: answerCount(s.requested, 'shortages.requested'),
    available: answerCount(s.available, 'shortages.available'),
  }));
}

/**
 * After Reserve answered FAILED_PRECONDITION: the lines that were short, or the refusal as it came (a location not
 * open, a discontinued SKU). A hold that lost a race ends FAILED with its shortages; a visibly short request leaves
 * no hold, so the shortages are read from availability now.
 */
async function shortOrRefused(
  client: Inventory,
  call: Call,
  request: HoldRequest,
  refusal: Refused | Retry,
): Promise<{ kind: 'short'; shortages: Shortage[] } | Refused | Retry> {
  try {
    const { hold } = await client.getHold({ holdId: request.holdId }, call);
    if (hold?.status === HoldStatus.HOLD_STATUS_FAILED && hold.shortages.length > 0) {
      return { kind: 'short', shortages: shortagesOf(hold) };
    }
  } catch (error) {
    if (callFailure(error).code !== status.NOT_FOUND) return downstreamStatus('inventory', error);
  }
  const wanted = new Map<string, Shortage>();
  for (const line of request.lines) {
    const key = `${line.skuCode}@${line.locationId}`;
    const seen = wanted.get(key);
    if (seen) seen.requested += line.quantity;
    else
      wanted.set(key, { skuCode: line.skuCode, locationId: line.locationId, requested: line.quantity, available: 0 });
  }
  try {
    const { skus } = await client.getAvailability(
      {
        skuCodes: [...new Set(request.lines.map((l) => l.skuCode))],
        locationIds: [...new Set(request.lines.map((l) => l.locationId))],
      },
      call,
    );
    for (const sku of skus) {
      for (const at of sku.locations) {
        const line = wanted.get(`${sku.skuCode}@${at.locationId}`);
        if (line) line.available = answerCount(at.available, 'available');
      }
    }
  } catch (error) {
    return downstreamStatus('inventory', error);
  }
  const shortages = [...wanted.values()].filter((s) => s.available < s.requested);
  return shortages.length > 0 ? { kind: 'short', shortages } : refusal;
}
