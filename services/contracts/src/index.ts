import path from 'node:path';

/** Absolute path of the binary FileDescriptorSet of every o2o proto (for partners and tools such as grpcurl). */
export function descriptorSetPath(): string {
  return path.join(__dirname, '..', 'descriptors', 'o2o.binpb');
}

/** The descriptor sets a service's gRPC reflection serves: the o2o contract and grpc.health.v1. */
export function reflectionDescriptorSets(): string[] {
  return [descriptorSetPath(), path.join(__dirname, '..', 'descriptors', 'grpc-health.binpb')];
}
