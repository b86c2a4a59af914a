import type { Logger } from '@o2o/kit-log';

/** A background job run every interval, one run at a time. */
export interface Periodic {
  /** Runs the job now (after the run in progress, if any) and resolves when it finished. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `job` every `intervalMs` (0 disables the timer; runNow still works); a failing run is logged, not fatal. */
export function startPeriodic(name: string, intervalMs: number, job: () => Promise<number>, logger: Logger): Periodic {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const runOnce = () =>
    (running = running.then(async () => {
      if (stopped) return;
      try {
        const changed = await job();
        if (changed > 0) logger.info({ job: name, changed }, 'background job changed payments');
      } catch (error) {
        logger.warn({ err: error, job: name }, 'background job failed; next run retries');
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
