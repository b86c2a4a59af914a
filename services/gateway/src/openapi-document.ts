import { gatewayApi } from './api';
import type { ApiKeyStore } from './auth/api-keys';
import type { GrpcGateway } from './rest/grpc-call';

const never = (): never => {
  throw new Error('the OpenAPI generator calls nothing');
};

/** The OpenAPI document as the running gateway serves it, built without connecting to anything. */
export function openApiDocument(): Record<string, unknown> {
  const grpc: GrpcGateway = { unary: never, serverStream: never, close: () => {} };
  const keys: ApiKeyStore = { verify: never, create: never, list: never, get: never, revoke: never };
  return gatewayApi({ grpc, keys, webhooks: never, deadlineMs: 1, defaultRateLimitPerMinute: 1, sseHeartbeatMs: 1 })
    .openapi;
}
