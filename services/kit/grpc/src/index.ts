export { startGrpcServer, type GrpcServer, type GrpcServerOptions, type ServedService } from './server';
export { unary, type AsyncUnary, type InFlight } from './unary';
export { errorMapper, isDependencyUnavailable, type KindedError, type StatusTable } from './errors';
export { badRequestMetadata, decodeFieldViolations, encodeBadRequestStatus, type FieldViolation } from './rich-status';
export { stopOnSignals, runMain, runService, startPeriodic, type Periodic, type StoppableService } from './lifecycle';
export { pageToken, type PageCursor } from './paging';
export { asyncClient, type AsyncClient } from './client';
export { RPC_SERVER_DURATION, withRpcMetrics } from './rpc-metrics';
