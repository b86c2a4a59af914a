// A small HTTP/1.1 client over node:http with keep-alive: the bench's REST caller (JSON in, status and text out).
import { Agent, request } from 'node:http';

/** An answer: the status and the body as text. */
export interface HttpAnswer {
  status: number;
  text: string;
}

/** Calls the gateway on loopback. */
export interface HttpClient {
  call(method: string, route: string, headers: Record<string, string>, body?: unknown): Promise<HttpAnswer>;
  /** Like `call`, parsing the body as JSON; throws unless the status is `expect`. */
  json<T>(method: string, route: string, headers: Record<string, string>, body: unknown, expect: number): Promise<T>;
  close(): void;
}

/** A client of 127.0.0.1:`port`, up to `maxSockets` connections (one per caller in flight). */
export function httpClient(port: number, maxSockets = 2048, timeoutMs = 320_000): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: 256, scheduling: 'lifo' });
  const call = (method: string, route: string, headers: Record<string, string>, body?: unknown) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: route,
          agent,
          timeout: timeoutMs,
          headers:
            text === undefined
              ? headers
              : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(text);
    });
  return {
    call,
    async json<T>(method: string, route: string, headers: Record<string, string>, body: unknown, expect: number) {
      const answer = await call(method, route, headers, body);
      if (answer.status !== expect)
        throw new Error(
          `${method} ${route} answered ${answer.status} (expected ${expect}): ${answer.text.slice(0, 500)}`,
        );
      return JSON.parse(answer.text) as T;
    },
    close: () => agent.destroy(),
  };
}
