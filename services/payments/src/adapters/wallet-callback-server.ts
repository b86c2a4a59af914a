import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@o2o/kit-log';
import type { Applied } from '../app/wallet-outcome';
import type { WalletOutcome } from '../app/ports';
import { isPaymentError } from '../domain/errors';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyCallback } from './wallet-signature';

/** The path wallet providers POST their callbacks to. */
export const CALLBACK_PATH = '/wallet/callbacks';
const MAX_BODY = 16 * 1024;

/** A running callback endpoint. */
export interface WalletCallbackServer {
  port: number;
  /** The full URL to give the provider. */
  url: string;
  close(): Promise<void>;
}

/**
 * The wallet providers' callback endpoint (node:http). It verifies the signature and timestamp BEFORE reading the
 * JSON, applies the outcome idempotently, and answers: 200 applied or duplicate (the provider stops retrying),
 * 401 missing, forged or stale signature, 400 malformed, 404 unknown payment, 409 an outcome the payment can no
 * longer take (logged for a person), 503 anything else (the provider retries later).
 */
export async function startWalletCallbackServer(options: {
  host: string;
  port: number;
  secret: string;
  toleranceMs: number;
  logger: Logger;
  apply: (paymentId: string, outcome: WalletOutcome) => Promise<Applied>;
}): Promise<WalletCallbackServer> {
  const log = options.logger.child({ component: 'wallet-callbacks' });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== CALLBACK_PATH) return answer(res, 404, { error: 'not found' });
    const body = await readBody(req);
    if (body === undefined) return answer(res, 413, { error: 'body too large' });
    const verdict = verifyCallback(
      options.secret,
      { timestamp: header(req, TIMESTAMP_HEADER), signature: header(req, SIGNATURE_HEADER) },
      body,
      { now: new Date(), toleranceMs: options.toleranceMs },
    );
    if (verdict !== 'ok') {
      log.warn({ verdict, remote: req.socket.remoteAddress }, 'Wallet callback refused: signature not valid');
      return answer(res, 401, { error: `signature ${verdict}` });
    }
    const parsed = parseCallback(body);
    if (!parsed) return answer(res, 400, { error: 'malformed callback' });
    try {
      const result = await options.apply(parsed.paymentId, parsed.outcome);
      return answer(res, 200, { result });
    } catch (error) {
      if (isPaymentError(error) && error.kind === 'not-found') return answer(res, 404, { error: error.message });
      if (isPaymentError(error) && (error.kind === 'failed-precondition' || error.kind === 'invalid-argument')) {
        log.error({ err: error, paymentId: parsed.paymentId }, 'Wallet callback cannot apply: needs a person');
        return answer(res, 409, { error: error.message });
      }
      log.warn({ err: error, paymentId: parsed.paymentId }, 'Wallet callback failed; the provider will retry');
      return answer(res, 503, { error: 'try again later' });
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, 'Wallet callback handler failed');
      if (!res.headersSent) answer(res, 500, { error: 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'wallet callback endpoint listening');
  return {
    port,
    url: `http://${options.host}:${port}${CALLBACK_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The callback's payment id and outcome, or undefined when the JSON is not a callback. */
export function parseCallback(body: string): { paymentId: string; outcome: WalletOutcome } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.payment_id !== 'string' || v.payment_id.length === 0 || v.payment_id.length > 64) return undefined;
  if (v.state === 'CLOSED') return { paymentId: v.payment_id, outcome: { state: 'closed' } };
  if (v.state !== 'PAID') return undefined;
  if (typeof v.transaction_id !== 'string' || typeof v.currency !== 'string') return undefined;
  if (typeof v.amount_minor !== 'string' || !/^\d{1,15}$/.test(v.amount_minor)) return undefined;
  return {
    paymentId: v.payment_id,
    outcome: {
      state: 'paid',
      transactionId: v.transaction_id,
      amount: { currency: v.currency, amountMinor: Number(v.amount_minor) },
    },
  };
}
