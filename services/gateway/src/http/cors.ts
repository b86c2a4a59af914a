import type { IncomingMessage, ServerResponse } from 'node:http';

/** Request headers a browser client may send. */
const ALLOWED_HEADERS = 'authorization, x-api-key, content-type, idempotency-key, x-request-id, accept, last-event-id';
/** Response headers a browser client may read. */
const EXPOSED_HEADERS = 'x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after, allow';
const METHODS = 'GET, POST, PUT, PATCH, DELETE';

/**
 * CORS for browser frontends (web shop, H5 mini-program pages): only the configured origins are answered with
 * `Access-Control-Allow-Origin`, never `*`, and credentials are not cookies (API keys and bearer tokens travel in
 * headers), so `Allow-Credentials` is never sent. An empty list turns CORS off: browsers then refuse cross-origin
 * calls, server-to-server clients are unaffected.
 */
export function createCors(allowedOrigins: readonly string[]) {
  const any = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins);
  const originOf = (req: IncomingMessage): string | undefined => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return undefined;
    return any || allowed.has(origin) ? origin : undefined;
  };
  return {
    /** Adds the CORS headers of an allowed origin to any answer. */
    decorate(req: IncomingMessage, res: ServerResponse): void {
      const origin = originOf(req);
      res.appendHeader('vary', 'Origin');
      if (!origin) return;
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    },
    /** Answers a preflight (OPTIONS with Access-Control-Request-Method); false when it is not one. */
    preflight(req: IncomingMessage, res: ServerResponse): boolean {
      if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
      const origin = originOf(req);
      if (!origin) {
        res.writeHead(403, { vary: 'Origin', 'content-length': 0 }).end();
        return true;
      }
      res
        .writeHead(204, {
          vary: 'Origin',
          'access-control-allow-origin': origin,
          'access-control-allow-methods': METHODS,
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        })
        .end();
      return true;
    },
  };
}
