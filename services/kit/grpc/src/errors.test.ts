import { status } from '@grpc/grpc-js';
import { createLogger } from '@o2o/kit-log';
import { errorMapper, type KindedError } from './errors';

type Kind = 'not-found';
class ServiceFailure extends Error implements KindedError<Kind> {
  constructor(
    readonly kind: Kind,
    message: string,
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
