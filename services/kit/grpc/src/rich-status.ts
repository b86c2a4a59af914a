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
  // Status.details (3) are Any { type_url (1), value (2) }; BadRequest.field_violations (1) are { field, description }.
  for (const any of fieldsNumbered(raw, 3)) {
    if (text(fieldsNumbered(any, 1)[0]) !== BAD_REQUEST_TYPE_URL) continue;
    for (const fv of fieldsNumbered(fieldsNumbered(any, 2)[0] ?? new Uint8Array(), 1)) {
      violations.push({ field: text(fieldsNumbered(fv, 1)[0]), description: text(fieldsNumbered(fv, 2)[0]) });
    }
  }
  return violations;
}

/** The values of one length-delimited field of a message, in order; other fields are skipped. */
function fieldsNumbered(bytes: Uint8Array, field: number): Uint8Array[] {
  const reader = new BinaryReader(bytes);
  const out: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) out.push(reader.bytes());
    else reader.skip(tag & 7);
  }
  return out;
}

function text(bytes: Uint8Array | undefined): string {
  return bytes ? new TextDecoder().decode(bytes) : '';
}

/** Trailing metadata carrying the violations, for a ServiceError. */
export function badRequestMetadata(code: number, message: string, violations: FieldViolation[]): Metadata {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeBadRequestStatus(code, message, violations));
  return metadata;
}
