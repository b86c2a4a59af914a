import { status } from '@grpc/grpc-js';
import { createLogger } from '@o2o/kit-log';
import { errorMapper, type KindedError } from './errors';
import { decodeFieldViolations } from './rich-status';

type Kind = 'not-found';
class ServiceFailure extends Error implements KindedError<Kind> {
  constructor(
    readonly kind: Kind,
    message: string,
    readonly violations?: { field: string; description: string }[],
  ) {
    super(message);
  }
}
const map = errorMapper(
  (e: unknown): e is ServiceFailure => e instanceof ServiceFailure,
  { 'not-found': status.NOT_FOUND },
  createLogger({ service: 'test', level: 'silent' }),
);

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('errorMapper', () => {
  it('maps a known kind through the table with its message', () => {
    expect(map(new ServiceFailure('not-found', 'Hold "h-1" does not exist'))).toMatchObject({
      code: status.NOT_FOUND,
      details: 'Hold "h-1" does not exist',
    });
  });

  it('bounds what it quotes, so a megabyte-long id cannot overflow the trailers', () => {
    const id = 'x'.repeat(1024 * 1024);
    const violations = Array.from({ length: 100 }, (_, i) => ({
      field: `lines[${i}].${id}`,
      description: `bad ${id}`,
    }));
    const mapped = map(new ServiceFailure('not-found', `Hold "${id}" does not exist`, violations));
    expect(mapped.code).toBe(status.NOT_FOUND);
    expect(mapped.details).toMatch(/^Hold "x{494}… \(1048098 more characters\)$/);
    const sent = decodeFieldViolations(mapped.metadata);
    expect(sent).toHaveLength(20);
    expect(sent[0]?.field).toMatch(/^lines\[0\]\.x+… \(\d+ more characters\)$/);
    expect(mapped.metadata?.get('grpc-status-details-bin')[0]?.length).toBeLessThan(32 * 1024);
  });

  it('answers UNAVAILABLE, without the driver message, when the database or broker cannot be reached', () => {
    for (const name of ['MongoServerSelectionError', 'MongoNetworkError', 'KafkaJSConnectionError']) {
      const mapped = map(named(name, 'connect ECONNREFUSED 127.0.0.1:27017'));
      expect(mapped.code).toBe(status.UNAVAILABLE);
      expect(mapped.details).not.toContain('ECONNREFUSED');
    }
  });

  it('answers INTERNAL with a generic message for anything else', () => {
    const bug = map(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(bug).toEqual({ code: status.INTERNAL, details: 'Internal error' });
    const duplicate = map(named('MongoServerError', 'E11000 duplicate key error'));
    expect(duplicate.code).toBe(status.INTERNAL);
  });
});
