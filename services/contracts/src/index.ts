import path from 'node:path';

/** Absolute path of the binary FileDescriptorSet of every o2o proto (for gRPC reflection and partners). */
export function descriptorSetPath(): string {
  return path.join(__dirname, '..', 'descriptors', 'o2o.binpb');
}
