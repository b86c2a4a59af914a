import type { Logger } from '@o2o/kit-log';

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
