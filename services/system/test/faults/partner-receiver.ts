// A partner's webhook endpoint on loopback, as the fault suite's partner runs it: verifies every request's
// signature with the subscription's secret, records what arrived, and answers 204.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../../gateway/src/webhooks';

/** One webhook request as the partner received it. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  orderId: string;
  /** The order's version the event carries (orders events carry the order). */
  version: number | undefined;
  verified: boolean;
}

export interface PartnerReceiver {
  url: string;
  received: ReceivedWebhook[];
  setSecret(secret: string): void;
  close(): Promise<void>;
}

export async function startPartnerReceiver(): Promise<PartnerReceiver> {
  const received: ReceivedWebhook[] = [];
  let secret = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = req.headers['o2o-signature'];
      const verified = verifyWebhookSignature({
        secrets: [secret],
        header: typeof header === 'string' ? header : undefined,
        body,
      }).ok;
      try {
        const event = JSON.parse(body.toString('utf8')) as {
          id: string;
          type: string;
          data?: { order?: { id?: string; version?: string } };
        };
        const version = event.data?.order?.version;
        received.push({
          id: event.id,
          type: event.type,
          orderId: event.data?.order?.id ?? '',
          version: version === undefined ? undefined : Number(version),
          verified,
        });
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/o2o-events`,
    received,
    setSecret: (s) => (secret = s),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
