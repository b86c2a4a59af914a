// What a failed call to another service means for the order: try again later, or a refusal for good. Shared by the
// catalogue, inventory and payments clients so the three read gRPC statuses the same way.
import { type ServiceError, status } from '@grpc/grpc-js';
import { moneyFromWire, type WireMoney } from '@o2o/kit-grpc';
import type { Money } from '../domain/types';
import type { Refused, Retry } from '../app/ports';

/** How long one call to another service may take unless the factory is told otherwise. */
export const DEFAULT_DEADLINE_MS = 5_000;

/** Where a downstream service listens, and how long each call to it may take. */
export interface DownstreamOptions {
  /** host:port of the service. */
  address: string;
  /** Per call; default {@link DEFAULT_DEADLINE_MS}. */
  deadlineMs?: number;
}

// Every status, so a new one in grpc-js is a compile error here rather than a silent guess. Retry: no answer yet
// (down, busy, timed out, lost a race) or a server fault that a later attempt with the same key may not meet.
// Refused: the request itself is wrong or does not fit the other service's state; repeating it cannot help.
// DATA_LOSS is retried: no dependency sends it, and retrying keeps the task visible (attempts, last error) for a
// person instead of deciding the order on a server fault. OK never arrives as an error; if it did, it is no answer.
const RETRY_OR_REFUSE: Record<status, 'retry' | 'refused'> = {
  [status.OK]: 'retry',
  [status.CANCELLED]: 'retry',
  [status.UNKNOWN]: 'retry',
  [status.INVALID_ARGUMENT]: 'refused',
  [status.DEADLINE_EXCEEDED]: 'retry',
  [status.NOT_FOUND]: 'refused',
  [status.ALREADY_EXISTS]: 'refused',
  [status.PERMISSION_DENIED]: 'refused',
  [status.RESOURCE_EXHAUSTED]: 'retry',
  [status.FAILED_PRECONDITION]: 'refused',
  [status.ABORTED]: 'retry',
  [status.OUT_OF_RANGE]: 'refused',
  [status.UNIMPLEMENTED]: 'refused',
  [status.INTERNAL]: 'retry',
  [status.UNAVAILABLE]: 'retry',
  [status.DATA_LOSS]: 'retry',
  [status.UNAUTHENTICATED]: 'refused',
};

/** A failed gRPC call: its status code and the server's message. */
export interface CallFailure {
  code: status;
  details: string;
}

/** The status of a rejected grpc-js call; anything else (a bug in this process) is rethrown as it is. */
export function callFailure(error: unknown): CallFailure {
  if (error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number') {
    const e = error as ServiceError;
    return { code: e.code, details: e.details ?? e.message };
  }
  throw error;
}

/**
 * A failed call as the use cases see it: `retry` (with the service, status name and message, for the task's last
 * error) or `refused` with the server's own message, which already names what is at fault.
 */
export function downstreamStatus(service: string, error: unknown): Retry | Refused {
  const failure = callFailure(error);
  const name = status[failure.code] ?? `status ${failure.code}`;
  if (RETRY_OR_REFUSE[failure.code] === 'refused') return { kind: 'refused', reason: failure.details };
  return { kind: 'retry', error: `${service}: ${name}: ${failure.details}` };
}

/** True when the call failed with this status. */
export function failedWith(error: unknown, code: status): boolean {
  return callFailure(error).code === code;
}

/** A money field of another service's answer. A malformed one is that service's bug, so it throws. */
export function answerMoney(money: WireMoney | undefined, field: string): Money {
  const problems: string[] = [];
  const parsed = moneyFromWire(money, field, { add: (f, d) => problems.push(`${f} ${d}`) });
  if (problems.length > 0) throw new Error(`Malformed answer: ${problems.join('; ')}`);
  return parsed;
}

/** An int64 count of another service's answer (a decimal string on the wire). A malformed one throws. */
export function answerCount(value: string, field: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new Error(`Malformed answer: ${field} is "${value}"`);
  return n;
}
