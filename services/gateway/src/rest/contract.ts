import { readFileSync } from 'node:fs';
import {
  createFileRegistry,
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type FileRegistry,
  ScalarType,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { descriptorSetPath } from '@o2o/contracts';
import type { JsonSchema } from '../http/route';

/** The o2o contract as descriptors: every message, enum and service of the protos, with their comments. */
export interface Contract {
  registry: FileRegistry;
  service(typeName: string): DescService;
  method(service: string, name: string): DescMethod;
  message(typeName: string): DescMessage;
}

let loaded: Contract | undefined;

/** Loads the descriptor set generated from proto/ (services/contracts/descriptors/o2o.binpb) once. */
export function loadContract(): Contract {
  if (loaded) return loaded;
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath())));
  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the contract has no ${what}`);
    return value;
  };
  const service = (typeName: string) => must(registry.getService(typeName), `service ${typeName}`);
  loaded = {
    registry,
    service,
    method: (s, name) => must(service(s).method[lowerFirst(name)], `method ${s}.${name}`),
    message: (typeName) => must(registry.getMessage(typeName), `message ${typeName}`),
  };
  return loaded;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

type Described = DescMessage | DescField | DescEnum | DescMethod;

/** Where an element sits in its file's descriptor (the source-code-info path its comments are filed under). */
function sourcePath(desc: Described): number[] {
  switch (desc.kind) {
    case 'message':
      return desc.parent
        ? [...sourcePath(desc.parent), 3, desc.parent.proto.nestedType.indexOf(desc.proto)]
        : [4, desc.file.proto.messageType.indexOf(desc.proto)];
    case 'enum':
      return desc.parent
        ? [...sourcePath(desc.parent), 4, desc.parent.proto.enumType.indexOf(desc.proto)]
        : [5, desc.file.proto.enumType.indexOf(desc.proto)];
    case 'field':
      return [...sourcePath(desc.parent), 2, desc.parent.proto.field.indexOf(desc.proto)];
    case 'rpc':
      return [
        6,
        desc.parent.file.proto.service.indexOf(desc.parent.proto),
        2,
        desc.parent.proto.method.indexOf(desc.proto),
      ];
  }
}

/** A proto comment as documentation: the leading comment, trimmed, lines joined. */
export function commentOf(desc: Described): string | undefined {
  const file = desc.kind === 'rpc' ? desc.parent.file : desc.kind === 'field' ? desc.parent.file : desc.file;
  const path = sourcePath(desc).join('.');
  const location = file.proto.sourceCodeInfo?.location.find((l) => l.path.join('.') === path);
  const text = location?.leadingComments.trim();
  return text ? text.replace(/\n\s*/g, ' ') : undefined;
}

const INT32: JsonSchema = { type: 'integer', format: 'int32', minimum: -2147483648, maximum: 2147483647 };
const UINT32: JsonSchema = { type: 'integer', format: 'int32', minimum: 0, maximum: 4294967295 };
/** 64-bit integers are strings in the proto3 JSON mapping (numbers are accepted on input, as the mapping allows). */
const INT64: JsonSchema = { type: ['string', 'integer'], format: 'int64', pattern: '^-?[0-9]{1,19}$' };
const UINT64: JsonSchema = { type: ['string', 'integer'], format: 'int64', pattern: '^[0-9]{1,20}$', minimum: 0 };

function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.BYTES:
      return { type: 'string', contentEncoding: 'base64' };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: 'number' };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return INT32;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return UINT32;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return UINT64;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return INT64;
  }
}

/** Well-known types and their JSON forms in the proto3 mapping. */
const WELL_KNOWN: Record<string, JsonSchema> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time', description: 'RFC 3339, UTC (`Z`).' },
  'google.protobuf.Duration': { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$' },
};

/** Messages whose JSON form is a string (Timestamp, Duration): they can be query parameters. */
export const isStringMessage = (typeName: string): boolean => typeName in WELL_KNOWN;

/** The schema name of a message or enum in `components.schemas`: its full proto name. */
export const schemaName = (desc: DescMessage | DescEnum): string => desc.typeName;

export const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/**
 * JSON Schemas (2020-12) for messages per the proto3 JSON mapping: lowerCamelCase names, enums by name, 64-bit
 * integers as strings, Timestamps as RFC 3339. Unknown fields are refused (`additionalProperties: false`), so a
 * client's typo is an error rather than a silently ignored field. `collect` adds every message and enum reached.
 */
export class SchemaBuilder {
  readonly schemas: Record<string, JsonSchema> = {};

  /** A reference to the message's schema, building it (and everything it reaches) on first use. */
  message(desc: DescMessage, omit: readonly string[] = []): JsonSchema {
    const wellKnown = WELL_KNOWN[desc.typeName];
    if (wellKnown) return wellKnown;
    if (omit.length > 0) return this.objectSchema(desc, omit);
    const name = schemaName(desc);
    if (!(name in this.schemas)) {
      this.schemas[name] = {}; // placeholder against recursion
      this.schemas[name] = this.objectSchema(desc, []);
    }
    return schemaRef(name);
  }

  private objectSchema(desc: DescMessage, omit: readonly string[]): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    for (const field of desc.fields) {
      if (omit.includes(field.jsonName)) continue;
      const schema = this.field(field);
      const description = commentOf(field);
      properties[field.jsonName] = description ? { ...schema, description } : schema;
    }
    const description = commentOf(desc);
    return {
      type: 'object',
      ...(description ? { description } : {}),
      properties,
      additionalProperties: false,
    };
  }

  private field(field: DescField): JsonSchema {
    switch (field.fieldKind) {
      case 'scalar':
        return scalarSchema(field.scalar);
      case 'enum':
        return this.enumeration(field.enum);
      case 'message':
        return this.message(field.message);
      case 'list': {
        const items =
          field.listKind === 'scalar'
            ? scalarSchema(field.scalar)
            : field.listKind === 'enum'
              ? this.enumeration(field.enum)
              : this.message(field.message);
        return { type: 'array', items };
      }
      case 'map': {
        const values =
          field.mapKind === 'scalar'
            ? scalarSchema(field.scalar)
            : field.mapKind === 'enum'
              ? this.enumeration(field.enum)
              : this.message(field.message);
        return { type: 'object', additionalProperties: values };
      }
    }
  }

  private enumeration(desc: DescEnum): JsonSchema {
    const name = schemaName(desc);
    if (!(name in this.schemas)) {
      const description = commentOf(desc);
      this.schemas[name] = {
        type: 'string',
        ...(description ? { description } : {}),
        enum: desc.values.map((v) => v.name),
      };
    }
    return schemaRef(name);
  }
}
