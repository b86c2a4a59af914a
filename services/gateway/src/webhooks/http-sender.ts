// One HTTP attempt: a POST with Node's fetch (undici), a time limit on the whole exchange up to the response headers,
// redirects not followed (a 3xx is a failure: the endpoint must be registered as it is), the answer's body discarded.

/** A request to send. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** How the attempt went: success is any 2xx. */
export interface WebhookResponse {
  ok: boolean;
  durationMs: number;
  httpStatus?: number;
  error?: string;
}

/** Sends one attempt; never throws. */
export type WebhookSender = (request: WebhookRequest) => Promise<WebhookResponse>;

/** A sender over fetch (the global one unless another is given, e.g. in tests). */
export function fetchSender(fetchImpl: typeof fetch = fetch): WebhookSender {
  return async ({ url, headers, body, timeoutMs }) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The receiver's answer is not used; cancelling frees the connection at once.
      await response.body?.cancel().catch(() => undefined);
      const httpStatus = response.status;
      if (httpStatus >= 200 && httpStatus < 300) return { ok: true, durationMs: elapsed(), httpStatus };
      if (httpStatus >= 300 && httpStatus < 400) {
        return { ok: false, durationMs: elapsed(), httpStatus, error: 'redirects are not followed' };
      }
      return { ok: false, durationMs: elapsed(), httpStatus };
    } catch (error) {
      return { ok: false, durationMs: elapsed(), error: describe(error, timeoutMs) };
    }
  };
}

/**
 * A short reason for the log: a timeout, or the network error's code (ECONNREFUSED, ENOTFOUND...). Read by shape, not
 * instanceof: fetch's errors may come from another realm (e.g. under a test runner's sandbox).
 */
function describe(error: unknown, timeoutMs: number): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (typeof e.cause?.code === 'string') return `connection failed: ${e.cause.code}`;
  const message =
    typeof e.cause?.message === 'string' ? e.cause.message : typeof e.message === 'string' ? e.message : '';
  return `request failed${message ? `: ${message}` : ''}`.slice(0, 200);
}
