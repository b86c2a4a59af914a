/** One field at fault, as in google.rpc.BadRequest: a JSON-pointer-like path into the request and what is wrong. */
export interface InvalidParam {
  /** The field, e.g. `lines[0].quantity`, a query parameter name, or a header such as `Idempotency-Key`. */
  name: string;
  reason: string;
}

/** The statuses the gateway answers with, their problem type slug and title. */
const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['invalid-request', 'The request is not valid'],
  401: ['unauthenticated', 'Authentication required'],
  403: ['forbidden', 'Not allowed'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  409: ['conflict', 'Conflict'],
  412: ['failed-precondition', 'The resource is not in a state that allows this'],
  413: ['payload-too-large', 'The request body is too large'],
  415: ['unsupported-media-type', 'The request body must be application/json'],
  422: ['unprocessable', 'The request cannot be processed'],
  429: ['rate-limited', 'Too many requests'],
  499: ['cancelled', 'The client cancelled the request'],
  500: ['internal', 'Internal error'],
  502: ['bad-gateway', 'A service answered unexpectedly'],
  503: ['unavailable', 'Temporarily unavailable, retry'],
  504: ['timeout', 'A service did not answer in time'],
};

/** Base of the `type` URIs; each is documented in docs/gateway.md. */
export const PROBLEM_TYPE_BASE = 'https://o2o.dev/problems/';

/** The RFC 9457 problem document the gateway sends with every error (application/problem+json). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** The gRPC status the error came from, when it came from a service. */
  grpc_status?: string;
  invalid_params?: InvalidParam[];
}

/** An error that is answered as a problem document; anything else becomes a generic 500. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly invalidParams: InvalidParam[];
  readonly headers: Record<string, string>;
  readonly grpcStatus?: string;

  constructor(
    status: number,
    detail: string,
    options: { invalidParams?: InvalidParam[]; headers?: Record<string, string>; grpcStatus?: string } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.invalidParams = options.invalidParams ?? [];
    this.headers = options.headers ?? {};
    this.grpcStatus = options.grpcStatus;
  }

  /** A 400 naming the fields at fault. */
  static invalid(detail: string, invalidParams: InvalidParam[]): HttpProblem {
    return new HttpProblem(400, detail, { invalidParams });
  }

  static notFound(detail = 'no such resource'): HttpProblem {
    return new HttpProblem(404, detail);
  }

  toDocument(instance?: string): ProblemDocument {
    const [slug, title] =
      TITLES[this.status] ??
      (this.status >= 500 ? ['internal', 'Internal error'] : ['invalid-request', 'The request is not valid']);
    return {
      type: PROBLEM_TYPE_BASE + slug,
      title,
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(this.grpcStatus ? { grpc_status: this.grpcStatus } : {}),
      ...(this.invalidParams.length > 0 ? { invalid_params: this.invalidParams } : {}),
    };
  }
}
