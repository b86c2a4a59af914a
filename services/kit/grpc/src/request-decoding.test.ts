import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create, createFileRegistry, type DescMessage, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  type ServerReadableStream,
  type ServerWritableStream,
  type ServiceDefinition,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { createLogger } from '@o2o/kit-log';
import { decodeFieldViolations } from './rich-status';
import { startGrpcServer, type GrpcServer } from './server';
import { unary } from './unary';
import { checkWireFormat } from './wire-check';

// A small contract built as descriptors (no generated code): a request with a string, an int64, a packed repeated
// int32, a nested message and a map, served by a unary, a server-streaming and a client-streaming method.
const field = (name: string, number: number, type: Type, more: Record<string, unknown> = {}) => ({
  name,
  number,
  type,
  label: Label.OPTIONAL,
  jsonName: name,
  ...more,
});
const set = create(FileDescriptorSetSchema, {
  file: [
    {
      name: 'o2o/test/v1/echo.proto',
      package: 'o2o.test.v1',
      syntax: 'proto3',
      messageType: [
        {
          name: 'EchoRequest',
          field: [
            field('text', 1, Type.STRING),
            field('count', 2, Type.INT64),
            field('scores', 3, Type.INT32, { label: Label.REPEATED }),
            field('inner', 4, Type.MESSAGE, { typeName: '.o2o.test.v1.Inner' }),
            field('tags', 5, Type.MESSAGE, { label: Label.REPEATED, typeName: '.o2o.test.v1.EchoRequest.TagsEntry' }),
          ],
          nestedType: [
            {
              name: 'TagsEntry',
              field: [field('key', 1, Type.STRING), field('value', 2, Type.STRING)],
              options: { mapEntry: true },
            },
          ],
        },
        { name: 'Inner', field: [field('note', 1, Type.STRING)] },
        { name: 'EchoResponse', field: [field('text', 1, Type.STRING)] },
      ],
      service: [
        {
          name: 'Echo',
          method: [
            { name: 'Say', inputType: '.o2o.test.v1.EchoRequest', outputType: '.o2o.test.v1.EchoResponse' },
            {
              name: 'Watch',
              inputType: '.o2o.test.v1.EchoRequest',
              outputType: '.o2o.test.v1.EchoResponse',
              serverStreaming: true,
            },
            {
              name: 'Collect',
              inputType: '.o2o.test.v1.EchoRequest',
              outputType: '.o2o.test.v1.EchoResponse',
              clientStreaming: true,
            },
          ],
        },
      ],
    },
  ],
});
const registry = createFileRegistry(set);
const EchoRequest = registry.getMessage('o2o.test.v1.EchoRequest') as DescMessage;
const encode = (value: Record<string, unknown>) => Buffer.from(toBinary(EchoRequest, create(EchoRequest, value)));

// Lenient decoding, as generated code does it; the strictness under test comes from the kit.
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const method = (name: string, kind: { requestStream?: boolean; responseStream?: boolean } = {}) => ({
  path: `/o2o.test.v1.Echo/${name}`,
  originalName: name,
  requestStream: kind.requestStream ?? false,
  responseStream: kind.responseStream ?? false,
  requestSerialize: (bytes: Buffer) => bytes,
  requestDeserialize: (bytes: Buffer) => toJson(EchoRequest, fromBinary(EchoRequest, bytes)),
  responseSerialize: json,
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as unknown,
});
const definition: ServiceDefinition = {
  say: method('Say'),
  watch: method('Watch', { responseStream: true }),
  collect: method('Collect', { requestStream: true }),
};

type Answer = { error: ServiceError | null; response?: unknown };
const logger = createLogger({ service: 'test', level: 'silent' });
let server: GrpcServer;
let client: Client;
let handled: string[];
let collectEnded: Promise<string>;
let collectEnd: (how: string) => void;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kit-grpc-'));
  const descriptors = path.join(dir, 'echo.binpb');
  writeFileSync(descriptors, toBinary(FileDescriptorSetSchema, set));
  const mapError = () => ({ code: status.INTERNAL, details: 'internal error' });
  server = await startGrpcServer({
    services: [
      {
        name: 'o2o.test.v1.Echo',
        definition,
        implementation: {
          say: unary(async (request: { text?: string }) => {
            handled.push(`say ${request.text ?? ''}`);
            return { text: request.text ?? '' };
          }, mapError),
          watch: (call: ServerWritableStream<{ text?: string }, unknown>) => {
            handled.push(`watch ${call.request.text ?? ''}`);
            call.write({ text: call.request.text ?? '' });
            call.end();
          },
          collect: (
            call: ServerReadableStream<{ text?: string }, unknown>,
            callback: (e: null, r: unknown) => void,
          ) => {
            const texts: string[] = [];
            call.on('data', (m: { text?: string }) => texts.push(m.text ?? ''));
            call.on('end', () => {
              collectEnd('end');
              callback(null, { text: texts.join(',') });
            });
            call.on('cancelled', () => collectEnd('cancelled'));
          },
        },
      },
    ],
    host: '127.0.0.1',
    port: 0,
    logger,
    descriptorSets: [descriptors],
  });
  server.setServing(true);
  client = new (makeGenericClientConstructor(definition, 'Echo'))(
    `127.0.0.1:${server.port}`,
    credentials.createInsecure(),
  );
});

beforeEach(() => {
  handled = [];
  collectEnded = new Promise((resolve) => (collectEnd = resolve));
});

afterAll(async () => {
  client.close();
  await server.stop({ graceMs: 1000 });
});

function say(bytes: Buffer): Promise<Answer> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      '/o2o.test.v1.Echo/Say',
      (b: Buffer) => b,
      (b: Buffer) => JSON.parse(b.toString('utf8')) as unknown,
      bytes,
      (error, response) => resolve({ error, response }),
    ),
  );
}

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('checkWireFormat', () => {
  it.each([
    ['a truncated varint', hex('10 ff'), /truncated varint/],
    ['a length past the end', hex('0a 05 61'), /text: length 5 runs past the end/],
    ['wire type 7', hex('0f'), /wire type 7, which does not exist/],
    ['wire type 6', hex('0e 00'), /wire type 6/],
    ['field number 0', hex('02 00'), /field number 0/],
    ['a string sent as a varint', hex('08 05'), /^text: has wire type VARINT, expected LEN/],
    ['a nested message sent as a fixed32', hex('25 00000000'), /^inner: has wire type I32, expected LEN/],
    ['invalid UTF-8', hex('0a 02 c3 28'), /^text: is not valid UTF-8/],
    ['invalid UTF-8 in a nested message', hex('22 03 0a 01 ff'), /^inner\.note: is not valid UTF-8/],
    ['invalid UTF-8 in a map key', hex('2a 05 0a 01 ff 12 00'), /^tags\.key: is not valid UTF-8/],
    ['invalid UTF-8 in a map value', hex('2a 05 0a 00 12 01 ff'), /^tags\.value: is not valid UTF-8/],
    ['a field of a newer client cut short', hex('48 ff'), /^#9: truncated varint/],
    ['a packed run cut short', hex('1a 01 96'), /scores: truncated varint/],
    ['a stray end-group tag', hex('3c'), /end-group tag without its start/],
    ['unknown groups nested 200 deep', hex('4b'.repeat(200) + '4c'.repeat(200)), /groups nested deeper than 100/],
  ])('refuses %s', (_what, bytes, message) => {
    expect(() => checkWireFormat(EchoRequest, bytes)).toThrow(message);
  });

  it('takes every valid encoding, unknown fields included (a newer client may send them)', () => {
    const valid = encode({ text: 'héllo', count: 7n, scores: [1, 150], inner: { note: '茶' }, tags: { a: 'b' } });
    expect(() => checkWireFormat(EchoRequest, valid)).not.toThrow();
    expect(() => checkWireFormat(EchoRequest, Buffer.alloc(0))).not.toThrow();
    // scores unpacked, then unknown fields 9 (varint), 10 (LEN), 11 (a group with a field inside) and 12 (fixed64).
    const extra = hex('18 01 18 02  48 01  52 01 78  5b 08 01 5c  61 0000000000000000');
    expect(() => checkWireFormat(EchoRequest, Buffer.concat([valid, extra]))).not.toThrow();
  });
});

describe('a served method', () => {
  it('answers a valid request as before', async () => {
    const answer = await say(encode({ text: 'hi' }));
    expect(answer.error).toBeNull();
    expect(answer.response).toEqual({ text: 'hi' });
  });

  it.each([
    ['garbage', hex('ff ff ff')],
    ['a string sent as a varint', hex('08 05')],
    ['invalid UTF-8', hex('0a 02 c3 28')],
  ])('answers %s with INVALID_ARGUMENT naming the request type, and the handler never runs', async (_what, bytes) => {
    const { error } = await say(bytes);
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/^The request is not a valid o2o\.test\.v1\.EchoRequest: /);
    expect(handled).toEqual([]);
  });

  it('names the field at fault in the status details (google.rpc.BadRequest)', async () => {
    const { error } = await say(hex('0a 02 c3 28'));
    expect(decodeFieldViolations(error?.metadata)).toEqual([{ field: 'text', description: 'is not valid UTF-8' }]);
  });

  it('refuses an undecodable request of a server-streaming method the same way', async () => {
    const call = client.makeServerStreamRequest(
      '/o2o.test.v1.Echo/Watch',
      (b: Buffer) => b,
      (b: Buffer) => b,
      hex('0f'),
    );
    const error = await new Promise<ServiceError>((resolve) => {
      call.on('data', () => undefined);
      call.on('error', resolve);
    });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/not a valid o2o\.test\.v1\.EchoRequest: .*wire type 7/);
    expect(handled).toEqual([]);
  });

  it('ends a client stream at its first undecodable message; the running handler sees the call cancelled', async () => {
    const answer = new Promise<Answer>((resolve) => {
      const call = client.makeClientStreamRequest(
        '/o2o.test.v1.Echo/Collect',
        (b: Buffer) => b,
        (b: Buffer) => b,
        (error, response) => resolve({ error, response }),
      );
      call.write(encode({ text: 'one' }));
      call.write(hex('0a 05 61'));
      call.end();
    });
    const { error } = await answer;
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/text: length 5 runs past the end/);
    expect(await collectEnded).toBe('cancelled');
  });
});

it('without descriptors, a request the generated decoder refuses is INVALID_ARGUMENT naming the method', async () => {
  const strict = await startGrpcServer({
    services: [
      {
        name: 'o2o.test.v1.Echo',
        definition: { say: definition.say! },
        implementation: {
          say: unary(
            async () => ({ text: '' }),
            () => ({ code: status.INTERNAL }),
          ),
        },
      },
    ],
    host: '127.0.0.1',
    port: 0,
    logger,
  });
  const other = new (makeGenericClientConstructor(definition, 'Echo'))(
    `127.0.0.1:${strict.port}`,
    credentials.createInsecure(),
  );
  try {
    const error = await new Promise<ServiceError | null>((resolve) =>
      other.makeUnaryRequest(
        '/o2o.test.v1.Echo/Say',
        (b: Buffer) => b,
        (b: Buffer) => b,
        hex('0f'),
        (e) => resolve(e),
      ),
    );
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/^The request is not a valid request of \/o2o\.test\.v1\.Echo\/Say: /);
  } finally {
    other.close();
    await strict.stop({ graceMs: 1000 });
  }
});
