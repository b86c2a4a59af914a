// Payments' business metrics, counted around the repository: an insert that happened, an update whose events were
// written. So a repeated request (answered from the stored payment) or a re-applied outcome counts nothing.
import type { Connection } from '@o2o/kit-mongo';
import { serviceMeter, startPolledGauges } from '@o2o/kit-telemetry';
import type { PaymentRepository } from '../app/ports';
import type { PaymentEvent } from '../domain/events';
import type { PaymentState } from '../domain/payment';
import { PAYMENTS_COLLECTION } from './mongo-payment-repository';

/** Authorisation outcomes by method (counter: `payment.method`, `outcome`, and `reason` for declines). */
export const AUTHORIZATIONS = 'o2o.payments.authorizations';
/** Money captured, in minor units (counter: `currency`, `payment.method`). */
export const CAPTURED = 'o2o.payments.captured';
/** Money refunded, in minor units (counter: `currency`, `payment.method`). */
export const REFUNDED = 'o2o.payments.refunded';
/** Authorised money released without capture, in minor units (counter: `currency`, `payment.method`). */
export const VOIDED = 'o2o.payments.voided';
/** Wallet (QR) payments waiting for the customer to pay (gauge). */
export const WALLET_PENDING = 'o2o.payments.wallet.pending';
/** Of those, the ones past their deadline that the expiry sweeper has not expired yet (gauge). */
export const WALLET_OVERDUE = 'o2o.payments.wallet.overdue';

type Outcome = 'authorized' | 'declined' | 'pending' | 'expired';

/** Payments' metrics: a counting repository wrapper and the wallet gauges. */
export function paymentsMetrics() {
  const meter = serviceMeter('o2o-payments');
  const authorizations = meter.createCounter(AUTHORIZATIONS, {
    description:
      'Authorisation outcomes: authorized, declined, pending (a wallet QR awaiting payment), expired (never paid)',
    unit: '{payment}',
  });
  const money = {
    PaymentCaptured: meter.createCounter(CAPTURED, { description: 'Money captured', unit: '{minor_unit}' }),
    PaymentRefunded: meter.createCounter(REFUNDED, { description: 'Money refunded', unit: '{minor_unit}' }),
    PaymentVoided: meter.createCounter(VOIDED, {
      description: 'Authorised money released without capture',
      unit: '{minor_unit}',
    }),
  };

  function outcome(payment: PaymentState, value: Outcome, reason?: string): void {
    authorizations.add(1, {
      'payment.method': payment.method,
      outcome: value,
      ...(reason ? { reason } : {}),
    });
  }
  function count(events: PaymentEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'PaymentAuthorized':
          outcome(event.payment, 'authorized');
          break;
        case 'PaymentDeclined':
          outcome(event.payment, 'declined', event.reason);
          break;
        case 'PaymentExpired':
          outcome(event.payment, 'expired');
          break;
        case 'PaymentCaptured':
        case 'PaymentRefunded':
        case 'PaymentVoided':
          money[event.type].add(event.amount.amountMinor, {
            currency: event.amount.currency,
            'payment.method': event.payment.method,
          });
          break;
      }
    }
  }

  return {
    /** The payment repository, counting what each successful write stored. */
    payments(inner: PaymentRepository): PaymentRepository {
      return {
        ...inner,
        async insert(payment, events, authorizeHash) {
          const inserted = await inner.insert(payment, events, authorizeHash);
          if (inserted === 'inserted') {
            const state = payment.snapshot();
            if (state.status === 'PENDING') outcome(state, 'pending');
            count(events);
          }
          return inserted;
        },
        async update(id, change) {
          const result = await inner.update(id, change);
          // The repository writes nothing for a change without events, and returns the events it wrote.
          count(result.events);
          return result;
        },
      };
    },
    /** PENDING wallet payments and the overdue ones among them, counted when metrics are collected. */
    startWalletGauges(connection: Connection, options: { maxAgeMs: number }): { stop(): void } {
      const db = connection.db;
      if (!db) throw new Error('Mongo connection is not open');
      const collection = db.collection<{ status: string; method: string; expiresAt?: Date }>(PAYMENTS_COLLECTION);
      return startPolledGauges(
        meter,
        {
          [WALLET_PENDING]: { description: 'Wallet payments waiting for the customer to pay', unit: '{payment}' },
          [WALLET_OVERDUE]: {
            description: 'Wallet payments still PENDING after their deadline (the expiry sweeper is behind)',
            unit: '{payment}',
          },
        },
        async () => {
          // The status_expires index serves both.
          const pending = { status: 'PENDING', method: 'WALLET_QR' };
          const [all, overdue] = await Promise.all([
            collection.countDocuments(pending),
            collection.countDocuments({ ...pending, expiresAt: { $lt: new Date() } }),
          ]);
          return { [WALLET_PENDING]: all, [WALLET_OVERDUE]: overdue };
        },
        options,
      );
    },
  };
}
