import { credentials, loadPackageDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

interface HealthStub {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (error: ServiceError | null, response: { status: string }) => void,
  ): void;
  close(): void;
}
type HealthConstructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthStub;

let constructorCache: HealthConstructor | undefined;

/** A grpc.health.v1 client for tests: `check()` answers the status name (SERVING, NOT_SERVING) or `ERROR <code>`. */
export function grpcHealth(address: string): { check(timeoutMs?: number): Promise<string>; close(): void } {
  if (!constructorCache) {
    const pkg = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: HealthConstructor } } };
    };
    constructorCache = pkg.grpc.health.v1.Health;
  }
  const stub = new constructorCache(address, credentials.createInsecure());
  return {
    check: (timeoutMs = 1000) =>
      new Promise((resolve) =>
        stub.check({ service: '' }, { deadline: Date.now() + timeoutMs }, (error, response) =>
          resolve(error ? `ERROR ${error.code}` : response.status),
        ),
      ),
    close: () => stub.close(),
  };
}
