import { reflectionDescriptorSets } from '@o2o/contracts';
import { kafkaSasl } from '@o2o/kit-config';
import { type Periodic, runService, serveService, startPeriodic } from '@o2o/kit-grpc';
import { createKafkaClient } from '@o2o/kit-kafka';
import { createLogger, type Logger } from '@o2o/kit-log';
import { connectMongo } from '@o2o/kit-mongo';
import { startEventPipeline } from '@o2o/kit-outbox';
import type { Deps } from './app/ports';
import { applyWalletOutcome, expireDue, reconcilePending } from './app/wallet-outcome';
import type { PaymentsConfig } from './config';
import { CardSimulator, storeTill } from './adapters/card-simulator';
import { PAYMENTS_TOPIC, paymentsEventEncoder } from './adapters/event-encoder';
import { paymentsGrpcService } from './adapters/grpc-server';
import { paymentsMetrics } from './adapters/payments-metrics';
import {
  mongoPaymentRepository,
  mongoProviderAttemptLog,
  mongoProviderBooks,
  PAYMENTS_COLLECTION,
} from './adapters/mongo-payment-repository';
import { startWalletCallbackServer } from './adapters/wallet-callback-server';
import { WalletSimulator } from './adapters/wallet-simulator';
import { startWalletSimulatorServer } from './adapters/wallet-simulator-server';

/** How many PENDING wallet payments one sweep looks at. */
const SWEEP_BATCH = 200;

/** A running payments service. */
export interface PaymentsService {
  port: number;
  logger: Logger;
  /** The topic its events go to. */
  topic: string;
  /** The wallet callback endpoint's URL. */
  walletCallbackUrl: string;
  /** The wallet simulator's HTTP API (local runs), when WALLET_SIMULATOR_PORT is set. */
  walletSimulatorUrl?: string;
  /** The built-in provider simulators (the only providers so far); tests drive them. */
  simulators: { card: CardSimulator; wallet: WalletSimulator };
  /** Runs the reconciler / expiry sweeper once now (tests, operators). */
  sweeps: { reconcile(): Promise<void>; expire(): Promise<void> };
  /** Graceful stop: health NOT_SERVING, drain calls, stop sweepers and the relay, close Kafka and the database. */
  stop(): Promise<void>;
}

/** Composition root: builds and starts everything by hand. Tests call it with port 0. */
export async function start(
  config: Readonly<PaymentsConfig>,
  options: {
    logger?: Logger;
    /** Provider simulators to use instead of new ones: replicas in one test share them as they would a provider. */
    simulators?: { card: CardSimulator; wallet: WalletSimulator };
  } = {},
): Promise<PaymentsService> {
  const logger = options.logger ?? createLogger({ service: 'payments', level: config.LOG_LEVEL });
  const connection = await connectMongo({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    appName: 'o2o-payments',
    logger,
  });
  const topic = `${config.KAFKA_TOPIC_PREFIX}${PAYMENTS_TOPIC}`;
  const stored = mongoPaymentRepository(connection, paymentsEventEncoder(topic));
  await stored.ensureIndexes();
  // Business metrics wrap the repository, so gRPC calls, callbacks and sweepers are counted the same way.
  const metrics = paymentsMetrics();
  const payments = metrics.payments(stored);
  const walletGauges = metrics.startWalletGauges(connection, { maxAgeMs: config.METRICS_QUERY_INTERVAL_MS });

  const events = startEventPipeline({
    kafka: createKafkaClient({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      logger,
      sasl: kafkaSasl(config),
      ssl: config.KAFKA_SSL,
    }),
    topics: [{ topic, partitions: config.KAFKA_TOPIC_PARTITIONS }],
    outboxes: [connection.collection(PAYMENTS_COLLECTION)],
    logger,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  });

  const card = options.simulators?.card ?? new CardSimulator(mongoProviderBooks(connection));
  const wallet = options.simulators?.wallet ?? new WalletSimulator(config.WALLET_CALLBACK_SECRET);
  const deps: Deps = {
    payments,
    providers: { card, wallet, store: storeTill },
    attempts: mongoProviderAttemptLog(connection),
    clock: { now: () => new Date() },
    walletTtlMs: config.WALLET_PAYMENT_TTL_MS,
  };
  // Naming the payment written lets the relay read it by _id instead of scanning the collection.
  const afterWrite = (paymentId?: string) =>
    events.kick(paymentId ? { collection: PAYMENTS_COLLECTION, ids: [paymentId] } : undefined);
  const onFailure = (paymentId: string, err: unknown) =>
    logger.warn({ err, paymentId }, 'Wallet sweep could not handle a payment; the next run retries');

  const callbacks = await startWalletCallbackServer({
    host: config.WALLET_CALLBACK_HOST,
    port: config.WALLET_CALLBACK_PORT,
    secret: config.WALLET_CALLBACK_SECRET,
    toleranceMs: config.WALLET_CALLBACK_TOLERANCE_MS,
    logger,
    apply: async (paymentId, outcome) => {
      const applied = await applyWalletOutcome(deps, paymentId, outcome);
      afterWrite(paymentId);
      return applied;
    },
  });
  const walletCallbackUrl = config.WALLET_CALLBACK_URL ?? callbacks.url;
  wallet.setCallbackUrl(walletCallbackUrl);
  const simulatorServer =
    config.WALLET_SIMULATOR_PORT === undefined
      ? undefined
      : await startWalletSimulatorServer(wallet, { host: '127.0.0.1', port: config.WALLET_SIMULATOR_PORT, logger });

  const sweepers: Periodic[] = [
    startPeriodic(
      'wallet-reconcile',
      config.WALLET_RECONCILE_INTERVAL_MS,
      async () => {
        const changed = await reconcilePending(deps, {
          olderThanMs: config.WALLET_RECONCILE_AFTER_MS,
          limit: SWEEP_BATCH,
        });
        if (changed > 0) afterWrite();
        return changed;
      },
      logger,
    ),
    startPeriodic(
      'wallet-expiry',
      config.WALLET_EXPIRY_INTERVAL_MS,
      async () => {
        const changed = await expireDue(deps, { limit: SWEEP_BATCH, onFailure });
        if (changed > 0) afterWrite();
        return changed;
      },
      logger,
    ),
  ];
  const [reconciler, expirer] = sweepers as [Periodic, Periodic];

  const server = await serveService({
    services: (inFlight) => [paymentsGrpcService({ ...deps, logger, inFlight, afterWrite })],
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    logger,
    descriptorSets: reflectionDescriptorSets(),
    shutdown: { drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS, graceMs: config.SHUTDOWN_GRACE_MS },
    afterStop: async () => {
      await callbacks.close();
      await simulatorServer?.close();
      for (const sweeper of sweepers) await sweeper.stop();
      await events.stop();
      walletGauges.stop();
      await connection.close();
    },
  });
  const stop = server.stop;

  return {
    port: server.port,
    logger,
    topic,
    walletCallbackUrl,
    walletSimulatorUrl: simulatorServer && `http://127.0.0.1:${simulatorServer.port}`,
    simulators: { card, wallet },
    sweeps: { reconcile: () => reconciler.runNow(), expire: () => expirer.runNow() },
    stop,
  };
}

/** Process entry: stop gracefully on SIGTERM/SIGINT, then run `onStopped` (telemetry flush). */
export function run(config: Readonly<PaymentsConfig>, onStopped?: () => Promise<void>): void {
  const logger = createLogger({ service: 'payments', level: config.LOG_LEVEL });
  runService(() => start(config, { logger }), logger, onStopped);
}
