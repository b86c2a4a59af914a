import type { Logger } from '@o2o/kit-log';
import { type ServedService, startGrpcServer } from './server';
import type { InFlight } from './unary';

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits 0 (1 if stopping failed). A second signal while stopping is
 * logged and ignored: the drain must finish, the orchestrator's grace period is the hard limit.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'already stopping');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Runs a service's start-up; on failure logs why and exits non-zero instead of hanging half-started. */
export function runMain(main: () => Promise<void>, logger: Pick<Logger, 'fatal'>): void {
  main().catch((error: unknown) => {
    logger.fatal({ err: error }, 'start-up failed');
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  });
}

/** A running service as {@link runService} needs it. */
export interface StoppableService {
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * A service process's whole life: start it (a failed start logs and exits non-zero), then on SIGTERM/SIGINT stop
 * it gracefully and run `onStopped` (e.g. the telemetry flush).
 */
export function runService(
  start: () => Promise<StoppableService>,
  bootLogger: Logger,
  onStopped?: () => Promise<void>,
): void {
  runMain(async () => {
    const service = await start();
    stopOnSignals(async () => {
      await service.stop();
      await onStopped?.();
    }, service.logger);
  }, bootLogger);
}

/** A background job run every interval, one run at a time. */
export interface Periodic {
  /** Runs the job now (after the run in progress, if any) and resolves when it finished. */
  runNow(): Promise<void>;
  /** Stops the timer and waits for the run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `job` every `intervalMs` (0 disables the timer; runNow still works), never two runs at once. The job returns
 * how many things it changed (logged when above 0); a failing run is logged and the next one retries.
 */
export function startPeriodic(name: string, intervalMs: number, job: () => Promise<number>, logger: Logger): Periodic {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const runOnce = () =>
    (running = running.then(async () => {
      if (stopped) return;
      try {
        const changed = await job();
        if (changed > 0) logger.info({ job: name, changed }, 'background job changed state');
      } catch (error) {
        logger.warn({ err: error, job: name }, 'background job failed; the next run retries');
      }
    }));
  const timer = intervalMs > 0 ? setInterval(() => void runOnce(), intervalMs) : undefined;
  timer?.unref();
  return {
    runNow: () => runOnce(),
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

/** Options for {@link serveService}: the server's, plus what the service shuts down after it. */
export interface ServeServiceOptions {
  /** The service's implementations; `inFlight` counts calls in progress (logged at stop). */
  services: (inFlight: InFlight) => ServedService[];
  host: string;
  port: number;
  logger: Logger;
  descriptorSets?: string[];
  /** SHUTDOWN_DRAIN_DELAY_MS and SHUTDOWN_GRACE_MS of the service's config, and how to end streaming calls. */
  shutdown: { drainDelayMs: number; graceMs: number; endStreams?: () => Promise<void> };
  /** Runs once, after the server stopped: background jobs, Kafka, the database, in the order they must close. */
  afterStop: () => Promise<void>;
}

/**
 * Starts a service's gRPC server the way every service does (reflection, health SERVING at once) and returns its
 * graceful stop: health NOT_SERVING, drain, refuse new calls, let in-flight ones finish, then `afterStop`.
 * Calling stop again returns the same promise.
 */
export async function serveService(options: ServeServiceOptions): Promise<{ port: number; stop: () => Promise<void> }> {
  const inFlight: InFlight = { count: 0 };
  const server = await startGrpcServer({
    services: options.services(inFlight),
    host: options.host,
    port: options.port,
    logger: options.logger,
    descriptorSets: options.descriptorSets,
  });
  server.setServing(true);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const { forced } = await server.stop(options.shutdown);
      options.logger.info({ forced, inFlight: inFlight.count }, 'gRPC server stopped');
      await options.afterStop();
    })());
  return { port: server.port, stop };
}
