import type { Metadata, ServiceError } from '@grpc/grpc-js';

/** The gRPC status of a failed call. */
export function statusOf(error: unknown): { code: number; details: string; metadata: Metadata | undefined } {
  const e = error as ServiceError;
  return { code: e.code, details: e.details, metadata: e.metadata };
}

/** The status of a call that must fail; a success fails the test. */
export async function refusal(call: Promise<unknown>): Promise<ReturnType<typeof statusOf>> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => statusOf(error),
  );
  if (!outcome) throw new Error('expected the call to be refused, but it succeeded');
  return outcome;
}
