// A strict reading of protobuf bytes against a message descriptor, before the generated decoder sees them. The
// generated decoders are lenient by design (a tag 0 ends the message, a field of the wrong wire type is skipped as
// unknown, invalid UTF-8 becomes U+FFFD), so bytes no conforming encoder writes would otherwise be taken as a valid,
// emptier request. This walk refuses them with the field at fault; it builds nothing, and it names the field only
// once something is wrong (the path is put together while the error unwinds), so a valid request costs no strings.
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';

/** Bytes that are not a valid encoding of the message; `field` is the path of the field at fault, when there is one. */
export class WireFormatError extends Error {
  field: string | undefined;

  constructor(
    readonly reason: string,
    field?: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'WireFormatError';
    this.field = field;
  }

  /** The same error, one level out: `note` becomes `inner.note`. */
  within(parent: string): WireFormatError {
    this.field = this.field === undefined ? parent : `${parent}.${this.field}`;
    this.message = `${this.field}: ${this.reason}`;
    return this;
  }
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;
const WIRE_NAMES = ['VARINT', 'I64', 'LEN', 'SGROUP', 'EGROUP', 'I32'];
/** Nesting deeper than this is refused (the generated decoders stop at 100 too). */
const MAX_DEPTH = 100;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Throws a {@link WireFormatError} unless `bytes` are a well-formed encoding of `desc` (proto3 rules). */
export function checkWireFormat(desc: DescMessage, bytes: Uint8Array): void {
  checkMessage({ buf: bytes, pos: 0 }, desc, bytes.length, 0);
}

interface Cursor {
  buf: Uint8Array;
  pos: number;
}

function checkMessage(c: Cursor, desc: DescMessage, end: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireFormatError(`nested deeper than ${MAX_DEPTH} messages`);
  const byNumber = fieldsByNumber(desc);
  while (c.pos < end) {
    const tag = readTag(c, end);
    const field = byNumber.get(tag >>> 3);
    if (!field) {
      skipUnknown(c, tag >>> 3, tag & 7, end, depth);
      continue;
    }
    try {
      checkField(c, field, tag & 7, end, depth);
    } catch (error) {
      throw error instanceof WireFormatError ? error.within(field.name) : error;
    }
  }
}

function checkField(c: Cursor, field: DescField, wireType: number, end: number, depth: number): void {
  switch (field.fieldKind) {
    case 'scalar':
      expectWireType(wireType, scalarWireType(field.scalar));
      checkScalar(c, field.scalar, end);
      return;
    case 'enum':
      expectWireType(wireType, VARINT);
      readVarint(c, end);
      return;
    case 'message':
      expectWireType(wireType, LEN);
      checkMessage(c, field.message, readLength(c, end), depth + 1);
      return;
    case 'list': {
      if (field.listKind === 'message') {
        expectWireType(wireType, LEN);
        checkMessage(c, field.message, readLength(c, end), depth + 1);
        return;
      }
      const scalar = field.listKind === 'enum' ? ScalarType.INT32 : field.scalar;
      const element = scalarWireType(scalar);
      if (wireType === LEN && element !== LEN) {
        // Packed: a run of elements filling the length exactly.
        const inner = readLength(c, end);
        while (c.pos < inner) checkScalar(c, scalar, inner);
        return;
      }
      expectWireType(wireType, element);
      checkScalar(c, scalar, end);
      return;
    }
    case 'map':
      expectWireType(wireType, LEN);
      checkMapEntry(c, field, readLength(c, end), depth);
      return;
  }
}

/** A map entry: key (1) and value (2), each optional, in any order. */
function checkMapEntry(c: Cursor, field: DescField & { fieldKind: 'map' }, end: number, depth: number): void {
  while (c.pos < end) {
    const tag = readTag(c, end);
    const number = tag >>> 3;
    const wireType = tag & 7;
    if (number !== 1 && number !== 2) {
      skipUnknown(c, number, wireType, end, depth);
      continue;
    }
    try {
      if (number === 1) {
        expectWireType(wireType, scalarWireType(field.mapKey));
        checkScalar(c, field.mapKey, end);
      } else if (field.mapKind === 'message') {
        expectWireType(wireType, LEN);
        checkMessage(c, field.message, readLength(c, end), depth + 1);
      } else {
        const scalar = field.mapKind === 'scalar' ? field.scalar : ScalarType.INT32;
        expectWireType(wireType, scalarWireType(scalar));
        checkScalar(c, scalar, end);
      }
    } catch (error) {
      throw error instanceof WireFormatError ? error.within(number === 1 ? 'key' : 'value') : error;
    }
  }
}

function checkScalar(c: Cursor, scalar: ScalarType, end: number): void {
  switch (scalarWireType(scalar)) {
    case VARINT:
      readVarint(c, end);
      return;
    case I64:
      advance(c, 8, end);
      return;
    case I32:
      advance(c, 4, end);
      return;
    default: {
      const stop = readLength(c, end);
      if (scalar === ScalarType.STRING && !isUtf8(c.buf, c.pos, stop)) {
        throw new WireFormatError('is not valid UTF-8');
      }
      c.pos = stop;
    }
  }
}

function isUtf8(buf: Uint8Array, start: number, end: number): boolean {
  // Most strings are ASCII: only text with a byte above 0x7f goes through the (fatal) decoder.
  let ascii = true;
  for (let i = start; i < end && ascii; i++) ascii = (buf[i] ?? 0) < 0x80;
  if (ascii) return true;
  try {
    utf8.decode(buf.subarray(start, end));
    return true;
  } catch {
    return false;
  }
}

function scalarWireType(scalar: ScalarType): number {
  switch (scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return I64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return I32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return LEN;
    case ScalarType.INT32:
    case ScalarType.INT64:
    case ScalarType.UINT32:
    case ScalarType.UINT64:
    case ScalarType.SINT32:
    case ScalarType.SINT64:
    case ScalarType.BOOL:
      return VARINT;
  }
}

function expectWireType(actual: number, expected: number): void {
  if (actual !== expected) {
    throw new WireFormatError(`has wire type ${WIRE_NAMES[actual]}, expected ${WIRE_NAMES[expected]}`);
  }
}

/** A field the descriptor does not know (a newer client's): skipped, but it must still be well formed. */
function skipUnknown(c: Cursor, number: number, wireType: number, end: number, depth: number): void {
  try {
    switch (wireType) {
      case VARINT:
        readVarint(c, end);
        return;
      case I64:
        advance(c, 8, end);
        return;
      case I32:
        advance(c, 4, end);
        return;
      case LEN:
        c.pos = readLength(c, end);
        return;
      case SGROUP:
        if (depth > MAX_DEPTH) throw new WireFormatError(`groups nested deeper than ${MAX_DEPTH}`);
        for (;;) {
          if (c.pos >= end) throw new WireFormatError('group has no end tag');
          const tag = readTag(c, end);
          if ((tag & 7) === EGROUP) {
            if (tag >>> 3 !== number) throw new WireFormatError(`group ends with the end tag of field ${tag >>> 3}`);
            return;
          }
          skipUnknown(c, tag >>> 3, tag & 7, end, depth + 1);
        }
      default:
        throw new WireFormatError('an end-group tag without its start');
    }
  } catch (error) {
    throw error instanceof WireFormatError && error.field === undefined ? error.within(`#${number}`) : error;
  }
}

/** A tag: field number above 0, wire type 0..5, at most 32 bits. */
function readTag(c: Cursor, end: number): number {
  const at = c.pos;
  const tag = readVarint(c, end);
  if (c.pos - at > 5 || tag > 0xffffffff) throw new WireFormatError(`tag at byte ${at} overflows 32 bits`);
  if (tag < 8) throw new WireFormatError(`tag at byte ${at} has field number 0`);
  const wireType = tag % 8;
  if (wireType > I32) throw new WireFormatError(`tag at byte ${at} has wire type ${wireType}, which does not exist`);
  return tag >>> 0;
}

/** Reads a length prefix; returns where the value ends (it must end within `end`). */
function readLength(c: Cursor, end: number): number {
  const length = readVarint(c, end);
  if (length > end - c.pos) {
    throw new WireFormatError(`length ${length} runs past the end of the message (${end - c.pos} bytes left)`);
  }
  return c.pos + length;
}

/** A varint's value (exact up to 2^53, enough for tags and lengths); at most 10 bytes, all before `end`. */
function readVarint(c: Cursor, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) throw new WireFormatError('truncated varint');
    const byte = c.buf[c.pos++] ?? 0;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return value;
    scale *= 128;
  }
  throw new WireFormatError('varint longer than 10 bytes');
}

function advance(c: Cursor, bytes: number, end: number): void {
  if (end - c.pos < bytes) throw new WireFormatError(`truncated: ${bytes} bytes expected`);
  c.pos += bytes;
}

const numbered = new WeakMap<DescMessage, Map<number, DescField>>();
function fieldsByNumber(desc: DescMessage): Map<number, DescField> {
  let map = numbered.get(desc);
  if (!map) {
    map = new Map(desc.fields.map((f) => [f.number, f]));
    numbered.set(desc, map);
  }
  return map;
}
