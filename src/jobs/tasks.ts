// Every background task the worker runs, by name.
import type { CronItem, Task, TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Pool } from '../db/pool';
import { GENERATE_BATCH } from '../codes/batches.service';
import { failAbandonedBatches, generateBatchTask } from '../codes/batches.job';
import { failAbandonedImports, processImportTask } from '../codes/imports.job';
import { PROCESS_IMPORT } from '../codes/imports.service';
import { DELETE_EXPIRED_IDEMPOTENCY_KEYS, deleteExpiredKeys } from '../http/idempotency';
import { SEND_ALERT, composeAlerts, type AlertSubject } from '../notify/alerts';
import type { Mailer } from '../notify/mailer';
import { metrics } from '../ops/metrics';
import { resilientTask } from './queue';

export interface TaskContext {
  pool: Pool;
  config: Readonly<Config>;
  log: Logger;
  mailer: Mailer;
}

const FAIL_ABANDONED_JOBS = 'fail_abandoned_jobs';

/** Tasks run on a schedule (graphile-worker's cron: one run per slot across all workers). */
export const SCHEDULE: CronItem[] = [
  { task: DELETE_EXPIRED_IDEMPOTENCY_KEYS, match: '17 * * * *', identifier: 'hourly-idempotency-cleanup' },
  { task: FAIL_ABANDONED_JOBS, match: '* * * * *', identifier: 'minutely-abandoned-jobs' },
];

/** A task whose runs are timed in the job_duration_seconds metric. */
function timed(name: string, task: Task): Task {
  return async (payload, helpers) => {
    const end = metrics.jobDuration.startTimer({ task: name });
    try {
      await task(payload, helpers);
      end({ result: 'completed' });
    } catch (error) {
      end({ result: 'failed' });
      throw error;
    }
  };
}

export function buildTaskList(context: TaskContext): TaskList {
  return Object.fromEntries(Object.entries(tasks(context)).map(([name, task]) => [name, timed(name, task!)]));
}

function tasks({ pool, config, log, mailer }: TaskContext): TaskList {
  return {
    [GENERATE_BATCH]: generateBatchTask(pool, log),
    [PROCESS_IMPORT]: processImportTask(pool, log),
    [DELETE_EXPIRED_IDEMPOTENCY_KEYS]: resilientTask(log, {
      parse: () => null,
      work: async () => {
        const deleted = await deleteExpiredKeys(pool);
        if (deleted) log.info({ deleted }, 'deleted expired idempotency keys');
      },
    }),
    // A batch or import whose job ran out of attempts without marking it failed (the process
    // was killed during the last one) is marked failed here, so that nothing stays pending for
    // ever and the format room it held is given back.
    [FAIL_ABANDONED_JOBS]: resilientTask(log, {
      parse: () => null,
      work: async () => {
        const failed = (await failAbandonedBatches(pool)) + (await failAbandonedImports(pool));
        if (failed) log.warn({ failed }, 'marked failed the batches and imports whose jobs gave up');
      },
    }),
    [SEND_ALERT]: resilientTask(log, {
      parse: (payload) => payload as AlertSubject,
      work: async (subject) => {
        for (const mail of await composeAlerts(pool, subject, config.publicUrl)) await mailer.send(mail);
      },
    }),
  };
}
