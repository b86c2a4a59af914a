import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { Metadata } from '@grpc/grpc-js';

/** One field at fault in a request, as in google.rpc.BadRequest.FieldViolation. */
export interface FieldViolation {
  /** Path of the field in the request, e.g. "product.skus[0].prices[1].price.amount_minor". */
  field: string;
  description: string;
}

const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const BAD_REQUEST_TYPE_URL = 'type.googleapis.com/google.rpc.BadRequest';

/**
 * Encodes google.rpc.Status { code, message, details: [Any(google.rpc.BadRequest)] } by hand, so any gRPC client's
 * rich-error support (grpcurl, google.rpc tooling) can read the field violations from `grpc-status-details-bin`.
 */
export function encodeBadRequestStatus(code: number, message: string, violations: FieldViolation[]): Buffer {
  const badRequest = new BinaryWriter();
  for (const v of violations) {
    badRequest.uint32(10).fork().uint32(10).string(v.field).uint32(18).string(v.description).join();
  }
  const status = new BinaryWriter();
  status.uint32(8).int32(code).uint32(18).string(message);
  status.uint32(26).fork().uint32(10).string(BAD_REQUEST_TYPE_URL).uint32(18).bytes(badRequest.finish()).join();
  return Buffer.from(status.finish());
}

/** Reads the field violations of a google.rpc.BadRequest carried in a status's trailing metadata (empty if none). */
export function decodeFieldViolations(metadata: Metadata | undefined): FieldViolation[] {
  const raw = metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!raw || typeof raw === 'string') return [];
  const violations: FieldViolation[] = [];
  const status = new BinaryReader(raw);
  while (status.pos < status.len) {
    const tag = status.uint32();
    if (tag >>> 3 !== 3) {
      status.skip(tag & 7);
      continue;
    }
    const any = new BinaryReader(status.bytes());
    let typeUrl = '';
    let value: Uint8Array = new Uint8Array();
    while (any.pos < any.len) {
      const t = any.uint32();
      if (t >>> 3 === 1) typeUrl = any.string();
      else if (t >>> 3 === 2) value = any.bytes();
      else any.skip(t & 7);
    }
    if (typeUrl !== BAD_REQUEST_TYPE_URL) continue;
    const badRequest = new BinaryReader(value);
    while (badRequest.pos < badRequest.len) {
      const t = badRequest.uint32();
      if (t >>> 3 !== 1) {
        badRequest.skip(t & 7);
        continue;
      }
      const fv = new BinaryReader(badRequest.bytes());
      const violation: FieldViolation = { field: '', description: '' };
      while (fv.pos < fv.len) {
        const ft = fv.uint32();
        if (ft >>> 3 === 1) violation.field = fv.string();
        else if (ft >>> 3 === 2) violation.description = fv.string();
        else fv.skip(ft & 7);
      }
      violations.push(violation);
    }
  }
  return violations;
}

/** Trailing metadata carrying the violations, for a ServiceError. */
export function badRequestMetadata(code: number, message: string, violations: FieldViolation[]): Metadata {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeBadRequestStatus(code, message, violations));
  return metadata;
}
