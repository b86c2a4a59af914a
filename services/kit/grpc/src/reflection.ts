import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createFileRegistry, type DescFile, type FileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { type Server, type ServerDuplexStream, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

interface ReflectionRequest {
  host?: string;
  messageRequest?:
    | 'fileByFilename'
    | 'fileContainingSymbol'
    | 'fileContainingExtension'
    | 'allExtensionNumbersOfType'
    | 'listServices';
  fileByFilename?: string;
  fileContainingSymbol?: string;
  listServices?: string;
}

/** One registry of the files of binary FileDescriptorSets (as `buf build` writes them); a repeated file counts once. */
export function loadDescriptorSets(paths: string[]): FileRegistry {
  const [first, ...rest] = paths.map((p) => fromBinary(FileDescriptorSetSchema, readFileSync(p)));
  if (!first) throw new Error('at least one descriptor set is needed');
  for (const set of rest) first.file.push(...set.file.filter((f) => !first.file.some((g) => g.name === f.name)));
  return createFileRegistry(first);
}

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) that answers with the descriptors exactly as `buf build`
 * wrote them, so grpcurl and other tools can describe and call every service with no .proto files. (@grpc/reflection
 * re-serialises descriptors through protobufjs and breaks types imported from another package.)
 */
export function addReflection(server: Server, options: { registry: FileRegistry; services: string[] }): void {
  const { registry } = options;
  const handler = (call: ServerDuplexStream<ReflectionRequest, unknown>) => {
    call.on('data', (request: ReflectionRequest) => call.write(answer(registry, options.services, request)));
    call.on('end', () => call.end());
    call.on('error', () => call.end());
  };
  const reflectionDir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  for (const version of ['v1', 'v1alpha']) {
    const pkg = loadSync(`grpc/reflection/${version}/reflection.proto`, {
      includeDirs: [reflectionDir],
      oneofs: true,
      longs: String,
      defaults: false,
    });
    const definition = pkg[`grpc.reflection.${version}.ServerReflection`];
    if (!definition || !('ServerReflectionInfo' in definition))
      throw new Error(`reflection ${version} proto not found`);
    server.addService(definition, { ServerReflectionInfo: handler });
  }
}

function answer(registry: FileRegistry, services: string[], request: ReflectionRequest): Record<string, unknown> {
  const base = { validHost: request.host ?? '', originalRequest: request };
  const notFound = (what: string) => ({
    ...base,
    errorResponse: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` },
  });
  switch (request.messageRequest) {
    case 'listServices':
      return { ...base, listServicesResponse: { service: services.map((name) => ({ name })) } };
    case 'fileByFilename': {
      const file = registry.getFile(request.fileByFilename ?? '');
      return file ? files(base, file) : notFound(`file "${request.fileByFilename}"`);
    }
    case 'fileContainingSymbol': {
      const file = fileOfSymbol(registry, request.fileContainingSymbol ?? '');
      return file ? files(base, file) : notFound(`symbol "${request.fileContainingSymbol}"`);
    }
    case 'fileContainingExtension':
    case 'allExtensionNumbersOfType':
    case undefined:
      return {
        ...base,
        errorResponse: { errorCode: status.UNIMPLEMENTED, errorMessage: 'extensions are not used by these services' },
      };
  }
}

function fileOfSymbol(registry: FileRegistry, symbol: string): DescFile | undefined {
  const direct = registry.get(symbol);
  if (direct && 'file' in direct) return direct.file;
  // "<package>.<Service>.<Method>": the method's service declares it.
  const parent = registry.getService(symbol.slice(0, symbol.lastIndexOf('.')));
  return parent?.methods.some((m) => `${parent.typeName}.${m.name}` === symbol) ? parent.file : undefined;
}

/** The file and every file it imports, transitively (clients need the whole closure to resolve types). */
function files(base: Record<string, unknown>, root: DescFile): Record<string, unknown> {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  visit(root);
  const fileDescriptorProto = [...seen.values()].map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  return { ...base, fileDescriptorResponse: { fileDescriptorProto } };
}
