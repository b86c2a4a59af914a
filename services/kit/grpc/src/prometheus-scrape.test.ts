import { createServer } from 'node:net';
import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { createLogger } from '@o2o/kit-log';
import { startTelemetry, type Telemetry } from '@o2o/kit-telemetry';
import { startGrpcServer, type GrpcServer } from './server';
import { unary } from './unary';

// The whole path a scrape takes in production: startTelemetry with the Prometheus exporter (loopback, a free port),
// a real gRPC call, then GET /metrics over HTTP.
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as unknown,
};
const definition: ServiceDefinition = {
  say: {
    path: '/o2o.test.v1.Echo/Say',
    originalName: 'Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

async function unusedLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let telemetry: Telemetry;
let server: GrpcServer;
let client: Client;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await unusedLoopbackPort();
  telemetry = startTelemetry({
    serviceName: 'scrape-test',
    traces: 'none',
    metrics: 'prometheus',
    prometheusPort: metricsPort,
    prometheusHost: '127.0.0.1',
  });
  server = await startGrpcServer({
    services: [
      {
        name: 'o2o.test.v1.Echo',
        definition,
        implementation: {
          say: unary(
            async (request: { text: string }) => ({ echo: request.text }),
            () => ({}),
          ),
        },
      },
    ],
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  const Echo = makeGenericClientConstructor(definition, 'Echo');
  client = new Echo(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.stop();
  await telemetry.shutdown();
});

it('serves the RPC duration histogram on /metrics in the Prometheus text format', async () => {
  const say = (client as unknown as Record<string, (...args: unknown[]) => void>).say!.bind(client);
  await new Promise<void>((resolve, reject) =>
    say({ text: 'hi' }, (error: ServiceError | null) => (error ? reject(error) : resolve())),
  );

  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(response.status).toBe(200);
  const body = await response.text();

  expect(body).toContain('# TYPE rpc_server_call_duration histogram');
  // The resource, its asynchronous host.id (machine id) included, is on target_info even right after start.
  expect(body).toMatch(/^target_info\{.*service_name="scrape-test".*host_id="[^"]+"/m);
  const labels = [
    'service_name="scrape-test"',
    'rpc_system="grpc"',
    'rpc_service="o2o.test.v1.Echo"',
    'rpc_method="Say"',
    'rpc_grpc_status_code="0"',
  ];
  const series = (name: string) =>
    body.split('\n').filter((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)));
  expect(series('rpc_server_call_duration_count').map((line) => line.split(' ').pop())).toEqual(['1']);
  // The seconds buckets, not the SDK's millisecond defaults.
  const buckets = series('rpc_server_call_duration_bucket').map((line) => /le="([^"]+)"/.exec(line)?.[1]);
  expect(buckets).toEqual([
    '0.005',
    '0.01',
    '0.025',
    '0.05',
    '0.075',
    '0.1',
    '0.25',
    '0.5',
    '0.75',
    '1',
    '2.5',
    '5',
    '7.5',
    '10',
    '+Inf',
  ]);
});
