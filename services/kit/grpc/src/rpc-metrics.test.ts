import {
  credentials,
  makeGenericClientConstructor,
  status,
  type Client,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { createLogger } from '@o2o/kit-log';
import { startMetricCapture, type MetricCapture } from '@o2o/kit-telemetry';
import { startGrpcServer, type GrpcServer } from './server';
import { RPC_SERVER_DURATION } from './rpc-metrics';
import { unary } from './unary';

// A hand-written service (JSON on the wire) so the test needs no generated code; real calls over loopback.
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as unknown,
};
const method = (name: string) => ({
  path: `/o2o.test.v1.Echo/${name}`,
  originalName: name,
  requestStream: false,
  responseStream: false,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const definition: ServiceDefinition = { say: method('Say'), refuse: method('Refuse') };

class Refused extends Error {}

let capture: MetricCapture;
let server: GrpcServer;
let client: Client;

beforeAll(async () => {
  capture = startMetricCapture();
  const mapError = (error: unknown) =>
    error instanceof Refused
      ? { code: status.FAILED_PRECONDITION, details: error.message }
      : { code: status.INTERNAL, details: 'internal error' };
  server = await startGrpcServer({
    services: [
      {
        name: 'o2o.test.v1.Echo',
        definition,
        implementation: {
          say: unary(async (request: { text: string }) => ({ echo: request.text }), mapError),
          refuse: unary(async () => {
            throw new Refused('Cannot refuse: it is already refused');
          }, mapError),
        },
      },
    ],
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  server.setServing(true);
  const Echo = makeGenericClientConstructor(definition, 'Echo');
  client = new Echo(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.stop();
  await capture.stop();
});

function call(name: 'say' | 'refuse', request: unknown): Promise<{ error: ServiceError | null; response: unknown }> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[name]!.bind(client);
  return new Promise((resolve) =>
    fn(request, (error: ServiceError | null, response: unknown) => resolve({ error, response })),
  );
}

it('records every unary call in the duration histogram by service, method and status', async () => {
  expect((await call('say', { text: 'hi' })).response).toEqual({ echo: 'hi' });
  expect((await call('say', { text: 'again' })).response).toEqual({ echo: 'again' });
  expect((await call('refuse', {})).error?.code).toBe(status.FAILED_PRECONDITION);

  const points = await capture.points(RPC_SERVER_DURATION);
  const base = { 'rpc.system': 'grpc', 'rpc.service': 'o2o.test.v1.Echo' };
  expect(points).toHaveLength(2);
  const ok = points.find((p) => p.attributes['rpc.method'] === 'Say');
  const refused = points.find((p) => p.attributes['rpc.method'] === 'Refuse');
  expect(ok?.attributes).toEqual({ ...base, 'rpc.method': 'Say', 'rpc.grpc.status_code': status.OK });
  expect(ok?.count).toBe(2);
  expect(refused?.attributes).toEqual({
    ...base,
    'rpc.method': 'Refuse',
    'rpc.grpc.status_code': status.FAILED_PRECONDITION,
  });
  expect(refused?.count).toBe(1);
  // Seconds, not milliseconds: loopback calls take well under a second each.
  expect(ok?.sum).toBeGreaterThan(0);
  expect(ok?.sum).toBeLessThan(2);
});

it('does not time health checks (probes would drown the real traffic)', async () => {
  const answer = await new Promise<Buffer | undefined>((resolve, reject) =>
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.alloc(0), // an empty HealthCheckRequest: the server as a whole
      (bytes: Buffer) => bytes,
      {},
      (error, response) => (error ? reject(error) : resolve(response)),
    ),
  );
  expect(answer?.toString('hex')).toBe('0801'); // status: SERVING
  const points = await capture.points(RPC_SERVER_DURATION);
  expect(points.every((p) => p.attributes['rpc.service'] === 'o2o.test.v1.Echo')).toBe(true);
});
