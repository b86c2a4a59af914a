import * as events from '@o2o/contracts/gen/o2o/payments/v1/events';
import { outboxEntry, type OutboxEntry } from '@o2o/kit-outbox';
import type { PaymentEvent } from '../domain/events';
import { declineReasonToPb, moneyToPb, paymentToPb } from './proto-mapping';

/** The payments topic; the orders service and partners subscribe to it. */
export const PAYMENTS_TOPIC = 'o2o.payments.v1';
/** CloudEvents source of every payments event. */
export const PAYMENTS_SOURCE = '/o2o/payments';

/**
 * An encoder of domain events into protobuf outbox entries for `topic`. The Kafka key is the ORDER id, so every
 * payment attempt of one order (a declined card, then a wallet payment) reaches consumers in order; ce_subject is
 * the payment id.
 */
export function paymentsEventEncoder(topic: string): (list: PaymentEvent[]) => OutboxEntry[] {
  return (list) =>
    list.map((event) =>
      outboxEntry({
        topic,
        key: event.payment.orderId,
        type: `o2o.payments.v1.${event.type}`,
        source: PAYMENTS_SOURCE,
        subject: event.payment.id,
        time: event.payment.updatedAt,
        payload: encode(event),
      }),
    );
}

function encode(event: PaymentEvent): Buffer {
  const payment = paymentToPb(event.payment);
  switch (event.type) {
    case 'PaymentAuthorized':
      return Buffer.from(events.PaymentAuthorized.encode({ payment }).finish());
    case 'PaymentDeclined':
      return Buffer.from(events.PaymentDeclined.encode({ payment, reason: declineReasonToPb(event.reason) }).finish());
    case 'PaymentCaptured':
      return Buffer.from(events.PaymentCaptured.encode({ payment, amount: moneyToPb(event.amount) }).finish());
    case 'PaymentVoided':
      return Buffer.from(
        events.PaymentVoided.encode({ payment, amount: moneyToPb(event.amount), reason: event.reason }).finish(),
      );
    case 'PaymentRefunded':
      return Buffer.from(
        events.PaymentRefunded.encode({ payment, amount: moneyToPb(event.amount), reason: event.reason }).finish(),
      );
    case 'PaymentExpired':
      return Buffer.from(events.PaymentExpired.encode({ payment }).finish());
  }
}
