import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { MongooseInstrumentation } from '@opentelemetry/instrumentation-mongoose';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';

/**
 * The libraries this project uses, each instrumented explicitly (auto-instrumentations-node would load
 * dozens of patches we do not need). Constructing an instrumentation enables its require hooks at once,
 * which is why startTelemetry must run before these libraries are first required.
 */
export function createInstrumentations() {
  return [
    // Kubernetes probes call grpc.health.v1 Check every few seconds per pod: tracing them buries real traffic.
    // The option matches bare method names, so no service method may be called Check or Watch.
    new GrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch'] }),
    // Probes of HTTP services (the gateway's /healthz, /livez, /readyz) are not traced either.
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => /^\/(healthz|livez|readyz)(\?|$)/.test(req.url ?? ''),
    }),
    new KafkaJsInstrumentation(),
    // Mongoose spans show the model operation, driver spans the wire command; query values stay out of both.
    new MongooseInstrumentation(),
    new MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
    // Logs go to stdout for the cluster's log pipeline; the instrumentation only adds trace ids to each line.
    new PinoInstrumentation({ disableLogSending: true }),
  ];
}
