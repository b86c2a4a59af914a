// Server reflection, as grpcurl uses it: a reflection client with no .proto files of its own lists the services and
// gets, for a service or a method, the file declaring it with every file it imports (so cross-package types resolve).
import path from 'node:path';
import { BinaryReader } from '@bufbuild/protobuf/wire';
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

it.each(['o2o.catalogue.v1.CatalogueService', 'o2o.catalogue.v1.CatalogueService.CreateProduct'])(
  'serves the file declaring %s with its imports',
  async (symbol) => {
    const response = await ask({ fileContainingSymbol: symbol });
    const files = (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map(readFile);
    expect(files.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'o2o/catalogue/v1/catalogue.proto',
        'o2o/common/v1/money.proto',
        'google/protobuf/field_mask.proto',
      ]),
    );
    const catalogue = files.find((f) => f.name === 'o2o/catalogue/v1/catalogue.proto');
    expect(catalogue?.services.map((s) => s.name)).toEqual(['CatalogueService']);
    expect(catalogue?.services[0]?.methods).toContain('CreateProduct');
  },
);

it('answers NOT_FOUND for an unknown symbol', async () => {
  const response = await ask({ fileContainingSymbol: 'o2o.nothing.v1.Nope' });
  expect(response.errorResponse?.errorCode).toBe(5);
});

// Just enough of google.protobuf.FileDescriptorProto: name (1) and services (6: name 1, methods 2: name 1).
function readFile(bytes: Uint8Array): { name: string; services: { name: string; methods: string[] }[] } {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const file = { name: '', services: [] as { name: string; methods: string[] }[] };
  for (const [field, value] of fields(bytes)) {
    if (field === 1) file.name = text(value);
    if (field !== 6) continue;
    const service = { name: '', methods: [] as string[] };
    for (const [f, v] of fields(value)) {
      if (f === 1) service.name = text(v);
      if (f === 2)
        service.methods.push(
          ...fields(v)
            .filter(([mf]) => mf === 1)
            .map(([, mv]) => text(mv)),
        );
    }
    file.services.push(service);
  }
  return file;
}

function fields(bytes: Uint8Array): [number, Uint8Array][] {
  const reader = new BinaryReader(bytes);
  const out: [number, Uint8Array][] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if ((tag & 7) === 2) out.push([tag >>> 3, reader.bytes()]);
    else reader.skip(tag & 7);
  }
  return out;
}
