// Runs the real job worker (graphile-worker with the service's task list) against a test app's
// database, with alerts sent to the given SMTP server; `useTestWorker()` runs it for a file.
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config';
import type { Pool } from '../../src/db/pool';
import type { JobContext } from '../../src/jobs/job';
import { startWorker, type Worker } from '../../src/jobs/queue';
import { buildTaskList } from '../../src/jobs/tasks';
import { configuredMailer } from '../../src/notify/mailer';
import type { TestApp } from './context';

/** What the service's worker gives its jobs, on `pool`; `env` as the service's environment (SMTP_URL...). */
export function jobContext(pool: Pool, env: Record<string, string> = {}): JobContext {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const mailer = configuredMailer(config, log);
  return { pool, config, log, mailer };
}

export async function startTestWorker(t: TestApp, env: Record<string, string> = {}): Promise<Worker> {
  const context = jobContext(t.pool, env);
  const worker = await startWorker(t.pool, context.log, buildTaskList(context), {
    concurrency: 2,
    deadAfterSeconds: context.config.workerDeadAfterSeconds,
  });
  return {
    state: () => worker.state(),
    handBackRunning: () => worker.handBackRunning(),
    async stop() {
      await worker.stop();
      context.mailer.close();
    },
  };
}

/**
 * Runs the real worker for the rest of the file, or of the describe block it is called in:
 * started in beforeAll (after the hooks registered before it), stopped in afterAll. `env` may be
 * a function, for values known only once an earlier beforeAll has run (an SMTP server's URL).
 */
export function useTestWorker(t: TestApp, env: Record<string, string> | (() => Record<string, string>) = {}): void {
  let worker: Worker | undefined;
  beforeAll(async () => {
    worker = await startTestWorker(t, typeof env === 'function' ? env() : env);
  });
  afterAll(async () => worker?.stop());
}

/** Polls `probe` until it returns a truthy value, or fails after `ms`. */
export async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  ms = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
