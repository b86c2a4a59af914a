// Boots the real payments service in-process on port 0 against the real Kafka and database, with a real grpc-js
// client; the wallet callback endpoint also listens on a free loopback port.
import { credentials } from '@grpc/grpc-js';
import {
  type AuthorizePaymentRequest,
  PaymentMethod,
  PaymentsServiceClient,
  PaymentsServiceService,
  WalletChannel,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { asyncClient, type AsyncClient } from '@o2o/kit-grpc';
import { createLogger } from '@o2o/kit-log';
import { collectTopic as collectKafkaTopic, testInfra, uniqueName } from '@o2o/kit-testing';
import mongoose from 'mongoose';
import { TEST_CARDS } from '../src/adapters/card-simulator';
import type { PaymentDocument } from '../src/adapters/mongo-payment-repository';
import { loadConfig, type PaymentsConfig } from '../src/config';
import { type PaymentsService, start } from '../src/main';

export { TEST_CARDS };

/** A started payments service, its client, and handles on its database. */
export interface Harness {
  service: PaymentsService;
  client: AsyncClient<typeof PaymentsServiceService>;
  config: Readonly<PaymentsConfig>;
  /** The stored document of a payment (state, ledger, outbox) as the database holds it. */
  stored(id: string): Promise<PaymentDocument | null>;
  countPayments(): Promise<number>;
  /** Failed provider calls recorded for operators. */
  providerAttempts(paymentId: string): Promise<{ operation: string; attempts: number }[]>;
  pendingOutbox(): Promise<number>;
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/** Starts a payments service with its own database and topic prefix; sweeper timers off unless overridden. */
export async function startHarness(
  overrides: Record<string, string> = {},
  options: { simulators?: PaymentsService['simulators'] } = {},
): Promise<Harness> {
  const infra = testInfra();
  const config = loadConfig({
    GRPC_PORT: '0',
    WALLET_CALLBACK_PORT: '0',
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: uniqueName('pay'),
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    LOG_LEVEL: 'warn',
    OUTBOX_POLL_INTERVAL_MS: '100',
    WALLET_CALLBACK_SECRET: 'test-wallet-secret-0123456789',
    WALLET_RECONCILE_INTERVAL_MS: '0',
    WALLET_EXPIRY_INTERVAL_MS: '0',
    ...overrides,
  });
  const service = await start(config, {
    logger: createLogger({ service: 'payments-test', level: 'warn' }),
    simulators: options.simulators,
  });
  const raw = new PaymentsServiceClient(`127.0.0.1:${service.port}`, credentials.createInsecure());
  const client = asyncClient(raw, PaymentsServiceService);
  const db = await mongoose.createConnection(config.MONGO_URL, { dbName: config.MONGO_DB }).asPromise();
  const payments = db.collection<PaymentDocument>('payments');
  return {
    service,
    client,
    config,
    stored: (id) => payments.findOne({ _id: id }),
    countPayments: () => payments.countDocuments({}),
    providerAttempts: async (paymentId) =>
      (await db.collection('provider_attempts').find({ paymentId }).toArray()).map((d) => ({
        operation: String(d.operation),
        attempts: Number(d.attempts),
      })),
    pendingOutbox: () => payments.countDocuments({ 'outbox.0': { $exists: true } }),
    async close(options: { keepDatabase?: boolean } = {}) {
      raw.close();
      await service.stop();
      if (!options.keepDatabase) await db.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
}

/** A CARD authorisation request for 100.00 CNY with a fresh key and order. */
export function cardRequest(overrides: Partial<AuthorizePaymentRequest> = {}): AuthorizePaymentRequest {
  return {
    idempotencyKey: uniqueName('auth'),
    orderId: uniqueName('order'),
    amount: { currencyCode: 'CNY', amountMinor: '10000' },
    method: PaymentMethod.PAYMENT_METHOD_CARD,
    card: { number: TEST_CARDS.approve },
    wallet: undefined,
    store: undefined,
    expireTime: undefined,
    attribution: undefined,
    ...overrides,
  };
}

/** A WALLET_QR authorisation request for 88.00 CNY. */
export function walletRequest(overrides: Partial<AuthorizePaymentRequest> = {}): AuthorizePaymentRequest {
  return cardRequest({
    amount: { currencyCode: 'CNY', amountMinor: '8800' },
    method: PaymentMethod.PAYMENT_METHOD_WALLET_QR,
    card: undefined,
    wallet: { channel: WalletChannel.WALLET_CHANNEL_ALIPAY },
    ...overrides,
  });
}

/** Money in CNY minor units, wire form. */
export function cny(amountMinor: number) {
  return { currencyCode: 'CNY', amountMinor: String(amountMinor) };
}

/** The sums of a stored document's ledger per kind, next to its balances: they must be equal. */
export function ledgerSums(doc: PaymentDocument) {
  const sums = { authorized: 0, captured: 0, voided: 0, refunded: 0 };
  const field = { AUTHORIZATION: 'authorized', CAPTURE: 'captured', VOID: 'voided', REFUND: 'refunded' } as const;
  for (const e of doc.ledger) sums[field[e.kind]] += e.amountMinor;
  return sums;
}

/** Every message of a topic (a plain kafkajs consumer, see kit-testing), plus one payment's event types. */
export async function collectTopic(topic: string) {
  const probe = await collectKafkaTopic(topic);
  return {
    ...probe,
    /** The ce_types of one payment's events, in order; delivery is at least once, so repeats of a ce_id count once. */
    typesOf: (paymentId: string) => {
      const seen = new Set<string>();
      return probe.messages
        .filter((m) => m.headers.ce_subject === paymentId)
        .filter((m) => !seen.has(m.headers.ce_id!) && seen.add(m.headers.ce_id!))
        .map((m) => m.headers.ce_type?.replace('o2o.payments.v1.', ''));
    },
  };
}

export { refusal, statusOf } from '@o2o/kit-testing';
