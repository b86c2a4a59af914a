// Server reflection, as grpcurl uses it: a reflection client lists the services with no .proto files of its own.
// Describing a service through @grpc/reflection 1.0.4 fails for types imported from another package
// ("*.common.v1.Money" not found); until the service serves the buf-built descriptor set itself, clients describe and
// call with `grpcurl -protoset services/contracts/descriptors/o2o.binpb` (README).
import path from 'node:path';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { type Harness, startHarness } from './harness';

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}
interface ReflectionStream {
  write(request: Record<string, string>): void;
  end(): void;
  on(event: 'data', listener: (response: ReflectionResponse) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

function ask(request: Record<string, string>): Promise<ReflectionResponse> {
  const protoPath = path.join(
    path.dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const pkg = loadPackageDefinition(loadSync(protoPath)) as unknown as {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            a: string,
            c: ReturnType<typeof credentials.createInsecure>,
          ) => { serverReflectionInfo(): ReflectionStream; close(): void };
        };
      };
    };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(
    `127.0.0.1:${h.service.port}`,
    credentials.createInsecure(),
  );
  const stream = client.serverReflectionInfo();
  return new Promise((resolve, reject) => {
    stream.on('data', (response) => {
      resolve(response);
      stream.end();
      client.close();
    });
    stream.on('error', reject);
    stream.write(request);
  });
}

it('lists the catalogue and health services', async () => {
  const response = await ask({ listServices: '*' });
  const names = response.listServicesResponse?.service.map((s) => s.name) ?? [];
  expect(names).toEqual(expect.arrayContaining(['o2o.catalogue.v1.CatalogueService', 'grpc.health.v1.Health']));
});
