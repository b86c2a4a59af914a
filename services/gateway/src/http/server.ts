import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata } from '@grpc/grpc-js';
import { metrics } from '@opentelemetry/api';
import { principalMetadata } from '@o2o/kit-grpc';
import type { Logger } from '@o2o/kit-log';
import type { Caller } from '../auth/authenticate';
import type { RateLimiter } from '../auth/rate-limit';
import { createCors } from './cors';
import { isServiceError, problemFromGrpc } from './grpc-errors';
import { HttpProblem } from './problem';
import type { RequestContext, Route } from './route';
import { createRouter } from './router';
import { invalidParams, type Validators } from './validation';

/** Visible ASCII, 1..128 characters (as most payment APIs accept). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export interface HttpServerOptions {
  routes: readonly Route[];
  validators: Validators;
  authenticate: (headers: IncomingMessage['headers']) => Promise<Caller>;
  limiter: RateLimiter;
  logger: Logger;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  /** Unauthenticated documents: the OpenAPI document and the probes. */
  openapi: Record<string, unknown>;
  ready: () => boolean;
  /** Browser origins allowed to call (CORS); empty: none. */
  corsOrigins: readonly string[];
}

export interface HttpServer {
  server: Server;
  port: number;
  /** How many server-sent event streams are open (the shutdown ends them). */
  openStreams(): number;
  close(): Promise<void>;
}

const meter = metrics.getMeter('o2o-gateway');
const duration = meter.createHistogram('o2o.gateway.request.duration', {
  description: 'REST requests by operation and status',
  unit: 's',
  advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
});
const rateLimited = meter.createCounter('o2o.gateway.rate_limited', {
  description: 'Requests refused by the rate limit',
});
const streamsGauge = meter.createObservableGauge('o2o.gateway.tracking.streams', {
  description: 'Open server-sent event streams (live tracking) on this replica',
});
/** A refused credential is logged at most once a minute (who is being limited, without a log line per request). */
const RATE_LOG_EVERY_MS = 60_000;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendProblem(res: ServerResponse, problem: HttpProblem, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(problem.toDocument(requestId));
  res.writeHead(problem.status, {
    ...problem.headers,
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Reads the body up to the limit; a longer one is refused with 413 before it is all read. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit)
    throw new HttpProblem(413, `the body may be at most ${limit} bytes`, { headers: { connection: 'close' } });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit)
      throw new HttpProblem(413, `the body may be at most ${limit} bytes`, { headers: { connection: 'close' } });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A request body as JSON. JSON text is UTF-8 (RFC 8259): bytes that are not are refused, not turned into U+FFFD and
 * passed on (a command would then go ahead with text its caller never sent).
 */
export function parseJson(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw HttpProblem.invalid('the body is not valid UTF-8', [{ name: '(body)', reason: 'must be UTF-8 encoded' }]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw HttpProblem.invalid('the body is not valid JSON', [
      { name: '(body)', reason: error instanceof Error ? error.message : 'malformed JSON' },
    ]);
  }
}

/**
 * Refuses a query string whose percent-escapes are not UTF-8 (`?query=%C3%28`): URLSearchParams would read them as
 * U+FFFD, and the call would go ahead with text its caller never sent. A run of escapes holds whole characters, so
 * each run is checked on its own.
 */
export function checkQueryEncoding(search: string): void {
  for (const pair of search.replace(/^\?/, '').split('&')) {
    const runs = pair.match(/(?:%[0-9a-fA-F]{2})+/g) ?? [];
    for (const run of runs) {
      try {
        utf8.decode(Buffer.from(run.replaceAll('%', ''), 'hex'));
      } catch {
        const name = [...new URLSearchParams(pair).keys()][0] ?? '';
        throw HttpProblem.invalid('the query string is not valid', [{ name, reason: 'is not percent-encoded UTF-8' }]);
      }
    }
  }
}

/** Query string → object; repeated parameters become arrays (a parameter may repeat only if the route says so). */
function readQuery(url: URL, route: Route): Record<string, unknown> {
  checkQueryEncoding(url.search);
  const out: Record<string, unknown> = {};
  const repeated = new Set((route.query ?? []).filter((q) => q.repeated).map((q) => q.name));
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    if (repeated.has(key)) out[key] = values.flatMap((v) => v.split(',')).filter((v) => v !== '');
    else if (values.length > 1)
      throw HttpProblem.invalid('a query parameter was repeated', [{ name: key, reason: 'may appear once' }]);
    else out[key] = values[0];
  }
  return out;
}

/**
 * The gateway's HTTP pipeline: route → authenticate → rate limit → role and scope → body and query checked against
 * the documented schemas → Idempotency-Key → handler. Every refusal is an application/problem+json answer and
 * happens before any service is called, so bad input changes nothing.
 */
export async function startHttpServer(
  options: HttpServerOptions & { host: string; port: number },
): Promise<HttpServer> {
  const match = createRouter(options.routes);
  // Each open event stream's abort: the shutdown cancels the service call behind it, which ends the stream.
  const streams = new Set<AbortController>();
  const openapiText = JSON.stringify(options.openapi);

  const cors = createCors(options.corsOrigins);
  streamsGauge.addCallback((result) => result.observe(streams.size));
  const rateLogged = new Map<string, number>();
  const logRateLimited = (credential: string, role: string) => {
    const now = Date.now();
    if (now - (rateLogged.get(credential) ?? 0) < RATE_LOG_EVERY_MS) return;
    if (rateLogged.size > 10_000) rateLogged.clear();
    rateLogged.set(credential, now);
    options.logger.info({ credential, role }, 'rate limit exceeded (logged once a minute per credential)');
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    cors.decorate(req, res);
    if (cors.preflight(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = req.method ?? 'GET';
    if (method === 'GET' && (url.pathname === '/healthz' || url.pathname === '/livez'))
      return sendJson(res, 200, { status: 'SERVING' });
    if (method === 'GET' && url.pathname === '/readyz') {
      return options.ready()
        ? sendJson(res, 200, { status: 'SERVING' })
        : sendJson(res, 503, { status: 'NOT_SERVING' });
    }
    if (method === 'GET' && (url.pathname === '/openapi.json' || url.pathname === '/v1/openapi.json')) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' });
      return void res.end(openapiText);
    }
    const found = match(method, url.pathname);
    if (!found) throw HttpProblem.notFound(`no route for ${url.pathname}`);
    if ('allowed' in found) {
      throw new HttpProblem(405, `${method} is not allowed here`, {
        headers: { allow: [...found.allowed].sort().join(', ') },
      });
    }
    const { route, params } = found;
    res.setHeader('x-o2o-operation', route.operationId);

    const caller = await options.authenticate(req.headers);
    const decision = options.limiter.take(caller.credential, caller.rateLimitPerMinute);
    res.setHeader('ratelimit-limit', String(decision.limit));
    res.setHeader('ratelimit-remaining', String(decision.remaining));
    res.setHeader('ratelimit-reset', String(decision.resetSeconds));
    if (!decision.allowed) {
      rateLimited.add(1, { role: caller.principal.role });
      logRateLimited(caller.credential, caller.principal.role);
      throw new HttpProblem(429, 'rate limit exceeded for this credential', {
        headers: { 'retry-after': String(decision.retryAfterSeconds) },
      });
    }
    const { principal } = caller;
    if (!route.roles.includes(principal.role)) {
      throw new HttpProblem(403, `a ${principal.role} credential may not call ${route.operationId}`);
    }
    const missing = route.scopes.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw new HttpProblem(403, `the credential lacks the scope ${missing.join(', ')}`);

    const query = readQuery(url, route);
    const checkQuery = options.validators.query(route.query ?? []);
    if (!checkQuery(query))
      throw HttpProblem.invalid('the query string is not valid', invalidParams(checkQuery.errors));

    let body: unknown;
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (route.requestBody) {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (hasBody && type !== 'application/json' && !type.endsWith('+json')) {
        throw new HttpProblem(415, 'send the body as application/json');
      }
      const raw = await readBody(req, options.maxBodyBytes);
      body = raw.length === 0 ? {} : parseJson(raw);
      const checkBody = options.validators.body(route.requestBody);
      if (!checkBody(body)) throw HttpProblem.invalid('the body is not valid', invalidParams(checkBody.errors));
    } else if (hasBody) {
      const raw = await readBody(req, options.maxBodyBytes);
      if (raw.length > 0)
        throw HttpProblem.invalid('this operation takes no body', [{ name: '(body)', reason: 'must be empty' }]);
    }

    let idempotencyKey: string | undefined;
    if (route.idempotent) {
      const header = req.headers['idempotency-key'];
      if (header === undefined) {
        throw HttpProblem.invalid('this operation needs an Idempotency-Key header', [
          { name: 'Idempotency-Key', reason: 'is required' },
        ]);
      }
      if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
        throw HttpProblem.invalid('the Idempotency-Key header is not valid', [
          { name: 'Idempotency-Key', reason: 'must be 1 to 128 visible ASCII characters' },
        ]);
      }
      idempotencyKey = header;
    }

    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.on('close', onClose);
    const timer = route.success.eventStream
      ? undefined
      : setTimeout(() => abort.abort(), options.requestTimeoutMs).unref();
    const ctx: RequestContext = {
      principal,
      metadata: principalMetadata(principal, new Metadata()),
      params,
      query,
      body,
      headers: req.headers,
      idempotencyKey,
      signal: abort.signal,
      response: res,
    };
    if (route.success.eventStream) {
      streams.add(abort);
      // A write racing a client that went away must not become an unhandled error.
      res.on('error', () => abort.abort());
    }
    try {
      const reply = await route.handle(ctx);
      if (reply) sendJson(res, reply.status, reply.body, reply.headers);
    } finally {
      if (timer) clearTimeout(timer);
      streams.delete(abort);
    }
  };

  const server = createServer((req, res) => {
    const began = performance.now();
    // Every REST answer is counted with the status it really had, refusals before any handler included; probes and
    // the OpenAPI document are not.
    res.on('finish', () => {
      const operation = res.getHeader('x-o2o-operation');
      if (typeof operation !== 'string' && res.statusCode < 400) return;
      duration.record((performance.now() - began) / 1000, {
        operation: typeof operation === 'string' ? operation : 'none',
        status: res.statusCode,
      });
    });
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', requestId);
    handle(req, res).catch((error: unknown) => {
      const problem =
        error instanceof HttpProblem
          ? error
          : isServiceError(error)
            ? problemFromGrpc(error)
            : new HttpProblem(500, 'the gateway failed to answer');
      if (problem.status >= 500) options.logger.warn({ err: error, requestId, url: req.url }, 'request failed');
      sendProblem(res, problem, requestId);
      // An unread or partly read body is left behind: the connection cannot be reused.
      if (!req.complete) req.resume();
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = options.requestTimeoutMs + 5_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    openStreams: () => streams.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.abort();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
