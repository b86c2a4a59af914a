export { startGrpcServer, type GrpcServer, type GrpcServerOptions, type ServedService } from './server';
export { unary, type AsyncUnary, type InFlight } from './unary';
export { errorMapper, isDependencyUnavailable, type KindedError, type StatusTable } from './errors';
export { badRequestMetadata, decodeFieldViolations, encodeBadRequestStatus, type FieldViolation } from './rich-status';
export {
  stopOnSignals,
  runMain,
  runService,
  serveService,
  type ServeServiceOptions,
  startPeriodic,
  type Periodic,
  type StoppableService,
} from './lifecycle';
export { PAGE_SIZES, pageResponse, pageToken, readPageRequest, type PageCursor } from './paging';
export { asyncClient, type AsyncClient, channelCredentials, channelOptions } from './client';
export { RPC_SERVER_DURATION, withRpcMetrics } from './rpc-metrics';
export {
  invertEnumTable,
  moneyFromWire,
  moneyToWire,
  type MinorUnits,
  type ViolationSink,
  type WireMoney,
} from './wire';
export { requestFingerprint } from './idempotency';
export {
  actsForLocation,
  callerFrom,
  canSeeOrder,
  type OrderAttribution,
  type Principal,
  PRINCIPAL_METADATA_KEY,
  PrincipalError,
  principalFrom,
  principalMetadata,
  type Role,
  ROLES,
} from './identity';
