// The gRPC half of the bad-input sweep: every RPC of every o2o service, enumerated from the contract's descriptor
// set, called with raw bytes that no conforming encoder writes (and with an empty and an oversized message) through a
// generic grpc-js client, so nothing on the client side can tidy the bytes up first.
import { readFileSync } from 'node:fs';
import {
  createFileRegistry,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  ScalarType,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { descriptorSetPath } from '@o2o/contracts';

/** One call of the sweep: which RPC, what was sent, and whether OK would be acceptable for it. */
export interface GrpcCase {
  service: string;
  method: string;
  /** "/package.Service/Method". */
  path: string;
  kind: DescMethod['methodKind'];
  name: string;
  bytes: Buffer;
  /** Bytes no conforming encoder writes: OK is never an acceptable answer. An empty message is valid protobuf. */
  garbage: boolean;
  /** Bytes that do not decode as the request type: the answer must be INVALID_ARGUMENT naming that type. */
  undecodable?: string;
}

/** How the server answered a case. */
export interface GrpcOutcome {
  case: GrpcCase;
  code: status;
  details: string;
  /** Response messages received before the status (a handler that ran on garbage would send some). */
  messages: number;
}

/**
 * The statuses that say "your request is wrong" (or "not now"), never "the server broke":
 * - INVALID_ARGUMENT: undecodable bytes, a field of the wrong type, a required field missing.
 * - NOT_FOUND: an empty or unknown id looked up (the services may check existence before shape).
 * - FAILED_PRECONDITION: a command the seeded entity's state does not allow.
 * - OUT_OF_RANGE: a value or page token outside what the method takes.
 * - RESOURCE_EXHAUSTED: a message over the server's grpc.max_receive_message_length (4 MiB), or a rate limit.
 * - PERMISSION_DENIED / UNAUTHENTICATED: the caller (here: no principal, or a malformed one) may not do this.
 * - ALREADY_EXISTS: a create that collides with the seeded data.
 * - ABORTED: an optimistic-concurrency check (expected_version 0 against a real version).
 * INTERNAL, UNKNOWN, UNAVAILABLE (a crashed or stuck process), DEADLINE_EXCEEDED (a hang) and UNIMPLEMENTED are not.
 */
export const ACCEPTED_GRPC = new Set<status>([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
  status.RESOURCE_EXHAUSTED,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.ALREADY_EXISTS,
  status.ABORTED,
]);

/** Every service of the o2o contract (package o2o.*), from the descriptor set the services are built from. */
export function contractServices(): DescService[] {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath())));
  const services: DescService[] = [];
  for (const desc of registry) if (desc.kind === 'service' && desc.typeName.startsWith('o2o.')) services.push(desc);
  return services.sort((a, b) => a.typeName.localeCompare(b.typeName));
}

/** A field number no o2o message uses: its records are unknown fields to every request type. */
const UNUSED_FIELD = 1000;
const VARINT = 0;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

/** The cases for one method: malformed bytes of several kinds, a wrong wire type, invalid UTF-8, empty, oversized. */
export function casesFor(method: DescMethod, maxReceiveBytes: number): GrpcCase[] {
  const base = {
    service: method.parent.typeName,
    method: method.name,
    path: `/${method.parent.typeName}/${method.name}`,
    kind: method.methodKind,
  };
  const garbage = (name: string, bytes: Buffer): GrpcCase => ({
    ...base,
    name,
    bytes,
    garbage: true,
    undecodable: method.input.typeName,
  });
  const cases: GrpcCase[] = [
    garbage('truncated varint', Buffer.concat([tag(UNUSED_FIELD, VARINT), Buffer.from([0xff])])),
    garbage('length prefix past the end', Buffer.concat([tag(UNUSED_FIELD, LEN), varint(100), Buffer.from('abc')])),
    garbage('wire type 6', Buffer.from([(1 << 3) | 6, 0x00])),
    garbage('wire type 7', Buffer.from([(1 << 3) | 7, 0x00])),
    garbage('field number 0', Buffer.from([(0 << 3) | LEN, 0x00])),
  ];
  const target = stringField(method.input) ?? method.input.fields[0];
  if (target) cases.push(garbage(`wrong wire type for ${target.name}`, wrongWireType(target)));
  const text = stringField(method.input);
  if (text) {
    cases.push(
      garbage(
        `invalid UTF-8 in ${text.name}`,
        Buffer.concat([tag(text.number, LEN), varint(2), Buffer.from([0xc3, 0x28])]),
      ),
    );
  }
  if (text) {
    // Valid protobuf, under the size limit, but no id or name is a megabyte long.
    const long = Buffer.alloc(1024 * 1024, 0x78);
    cases.push({
      ...base,
      name: `a 1 MiB ${text.name}`,
      bytes: Buffer.concat([tag(text.number, LEN), varint(long.length), long]),
      garbage: false,
    });
  }
  // Unknown groups are legal on the wire, but not 5,000 deep (decoders recurse into them).
  const depth = 5000;
  cases.push(
    garbage(
      'groups nested 5,000 deep',
      Buffer.concat([
        ...Array<Buffer>(depth).fill(tag(UNUSED_FIELD, SGROUP)),
        ...Array<Buffer>(depth).fill(tag(UNUSED_FIELD, EGROUP)),
      ]),
    ),
  );
  cases.push({ ...base, name: 'empty message', bytes: Buffer.alloc(0), garbage: false });
  // An unknown field big enough to take the whole message over the limit: refused before it is even decoded.
  const filler = Buffer.alloc(maxReceiveBytes + 64 * 1024, 0x61);
  const oversized = Buffer.concat([tag(UNUSED_FIELD, LEN), varint(filler.length), filler]);
  cases.push({ ...base, name: 'oversized message', bytes: oversized, garbage: true });
  return cases;
}

function stringField(message: DescMessage): DescField | undefined {
  return message.fields.find(
    (f) =>
      (f.fieldKind === 'scalar' && f.scalar === ScalarType.STRING) ||
      (f.fieldKind === 'list' && f.listKind === 'scalar' && f.scalar === ScalarType.STRING),
  );
}

/** The field's tag with a wire type its type never has, and a value of that wire type. */
function wrongWireType(field: DescField): Buffer {
  const scalar =
    field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')
      ? field.scalar
      : undefined;
  const lengthDelimited =
    field.fieldKind === 'message' ||
    field.fieldKind === 'map' ||
    (field.fieldKind === 'list' && field.listKind === 'message') ||
    scalar === ScalarType.STRING ||
    scalar === ScalarType.BYTES;
  // A varint where a length-delimited value belongs; a fixed32 where a varint belongs (not LEN: a repeated number may
  // be packed); a varint where a fixed-width number belongs.
  if (lengthDelimited) return Buffer.concat([tag(field.number, VARINT), varint(5)]);
  const fixed = [
    ScalarType.FIXED32,
    ScalarType.SFIXED32,
    ScalarType.FLOAT,
    ScalarType.FIXED64,
    ScalarType.SFIXED64,
    ScalarType.DOUBLE,
  ];
  if (scalar !== undefined && fixed.includes(scalar)) return Buffer.concat([tag(field.number, VARINT), varint(5)]);
  return Buffer.concat([tag(field.number, I32), Buffer.from([1, 0, 0, 0])]);
}

function tag(field: number, wireType: number): Buffer {
  return varint(field * 8 + wireType);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

const identity = (bytes: Buffer) => bytes;

/** Sends one case over a raw client and resolves with the status (never rejects). */
export function callRaw(client: Client, c: GrpcCase, deadlineMs: number): Promise<GrpcOutcome> {
  const options = { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    let messages = 0;
    const done = (error: Partial<ServiceError> | null) =>
      resolve({
        case: c,
        code: error?.code ?? status.OK,
        details: error?.details ?? '',
        messages,
      });
    switch (c.kind) {
      case 'unary':
        client.makeUnaryRequest(c.path, identity, identity, c.bytes, new Metadata(), options, (error) => {
          if (!error) messages++;
          done(error);
        });
        return;
      case 'client_streaming': {
        const call = client.makeClientStreamRequest(c.path, identity, identity, new Metadata(), options, (error) => {
          if (!error) messages++;
          done(error);
        });
        call.write(c.bytes);
        call.end();
        return;
      }
      case 'server_streaming': {
        const call = client.makeServerStreamRequest(c.path, identity, identity, c.bytes, new Metadata(), options);
        call.on('data', () => messages++);
        call.on('error', () => undefined); // the status event below carries it
        call.on('status', (s: { code: status; details: string }) => done(s.code === status.OK ? null : s));
        return;
      }
      case 'bidi_streaming': {
        const call = client.makeBidiStreamRequest(c.path, identity, identity, new Metadata(), options);
        call.on('data', () => messages++);
        call.on('error', () => undefined);
        call.on('status', (s: { code: status; details: string }) => done(s.code === status.OK ? null : s));
        call.write(c.bytes);
        call.end();
        return;
      }
    }
  });
}

/** A raw client for one service's address; no send limit, so the oversized case reaches the server. */
export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
}

/** Why an outcome is a failure, or undefined when it is an acceptable answer. */
export function grpcFailure(o: GrpcOutcome): string | undefined {
  if (o.code === status.OK) {
    return o.case.garbage ? 'OK for bytes that are not a valid request' : undefined;
  }
  if (!ACCEPTED_GRPC.has(o.code)) return `${status[o.code]} is not a client-error status`;
  const named = `The request is not a valid ${o.case.undecodable}: `;
  if (o.case.undecodable && (o.code !== status.INVALID_ARGUMENT || !o.details.startsWith(named))) {
    return `${status[o.code]}, expected INVALID_ARGUMENT "${named}…"`;
  }
  if (o.case.garbage && o.messages > 0)
    return `${o.messages} response message(s) before ${status[o.code]}: the handler ran`;
  return undefined;
}
