// The fault suite's partner endpoint: the benchmark's webhook receiver (services/system/src/bench), listening on
// loopback, checking every request with the gateway's own verifyWebhookSignature.
import type { AddressInfo } from 'node:net';
import { type Delivery, webhookReceiver } from '../../src/bench/scenarios/webhooks';
import { verifyWebhookSignature } from '../../../gateway/src/webhooks';

/** One webhook request as the partner received it. */
export type ReceivedWebhook = Pick<Delivery, 'id' | 'type' | 'orderId' | 'version' | 'verified'>;

export interface PartnerReceiver {
  url: string;
  received: ReceivedWebhook[];
  setSecret(secret: string): void;
  close(): Promise<void>;
}

export async function startPartnerReceiver(): Promise<PartnerReceiver> {
  const r = webhookReceiver(verifyWebhookSignature);
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/o2o-events`,
    received: r.log,
    setSecret: r.setSecret,
    async close() {
      r.server.closeAllConnections();
      await new Promise((resolve) => r.server.close(resolve));
    },
  };
}
