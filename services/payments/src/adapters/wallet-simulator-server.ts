import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@o2o/kit-log';
import type { WalletSimulator } from './wallet-simulator';

/**
 * For local runs only: a tiny HTTP front of the in-process wallet simulator, so a person can play the customer.
 *   GET  /qr/<reference or payment id>          the QR payment as the provider holds it
 *   POST /qr/<reference or payment id>/pay      pay it (add ?lose=1 to lose the callback)
 *   POST /qr/<reference or payment id>/cancel   the customer cancels (a CLOSED callback)
 */
export async function startWalletSimulatorServer(
  simulator: WalletSimulator,
  options: { host: string; port: number; logger: Logger },
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const match = /^\/qr\/([A-Za-z0-9_]+)(\/pay|\/cancel)?$/.exec(url.pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const qr = match ? simulator.find(match[1]!) : undefined;
    if (!match || !qr) return send(404, { error: 'no such QR payment' });
    if (req.method === 'GET' && !match[2]) return send(200, qr);
    if (req.method !== 'POST' || !match[2]) return send(405, { error: 'method not allowed' });
    const action =
      match[2] === '/pay'
        ? simulator.pay(qr.reference, { loseCallback: url.searchParams.get('lose') === '1' })
        : simulator.cancelByCustomer(qr.reference);
    action.then(
      (callbackStatus) => send(200, { ...simulator.find(qr.reference), callbackStatus: callbackStatus ?? 'lost' }),
      (error: unknown) => send(409, { error: error instanceof Error ? error.message : String(error) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'wallet simulator listening (local runs only)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
