import { createLogger } from '@o2o/kit-log';
import { startPeriodic } from './lifecycle';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('startPeriodic', () => {
  it('never runs two passes at once, and runNow waits for its own pass', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const job = startPeriodic(
      'job',
      0,
      async () => {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 10));
        active--;
        runs++;
        return 0;
      },
      logger,
    );
    await Promise.all([job.runNow(), job.runNow(), job.runNow()]);
    expect(runs).toBe(3);
    expect(most).toBe(1);
    await job.stop();
  });

  it('keeps going after a failing pass, and runs on its timer until stopped', async () => {
    let calls = 0;
    const job = startPeriodic(
      'job',
      5,
      async () => {
        calls++;
        if (calls === 1) throw new Error('database away');
        return 1;
      },
      logger,
    );
    await new Promise((r) => setTimeout(r, 60));
    await job.stop();
    const afterStop = calls;
    expect(afterStop).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(afterStop);
    await job.runNow();
    expect(calls).toBe(afterStop);
  });
});
