// Every background task the worker runs, by name.
import type { CronItem, TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Pool } from '../db/pool';
import { GENERATE_BATCH } from '../codes/batches.service';
import { generateBatchTask } from '../codes/batches.job';
import { processImportTask } from '../codes/imports.job';
import { PROCESS_IMPORT } from '../codes/imports.service';
import { DELETE_EXPIRED_IDEMPOTENCY_KEYS, deleteExpiredKeys } from '../claims/idempotency';
import { SEND_ALERT, composeAlert, type AlertSubject } from '../notify/alerts';
import type { Mailer } from '../notify/mailer';

export interface TaskContext {
  pool: Pool;
  config: Readonly<Config>;
  log: Logger;
  mailer: Mailer;
}

/** Tasks run on a schedule (graphile-worker's cron: one run per slot across all workers). */
export const SCHEDULE: CronItem[] = [
  { task: DELETE_EXPIRED_IDEMPOTENCY_KEYS, match: '17 * * * *', identifier: 'hourly-idempotency-cleanup' },
];

export function buildTaskList({ pool, config, log, mailer }: TaskContext): TaskList {
  return {
    [GENERATE_BATCH]: generateBatchTask(pool, log),
    [PROCESS_IMPORT]: processImportTask(pool),
    [DELETE_EXPIRED_IDEMPOTENCY_KEYS]: async () => {
      const deleted = await deleteExpiredKeys(pool);
      if (deleted) log.info({ deleted }, 'deleted expired idempotency keys');
    },
    [SEND_ALERT]: async (payload) => {
      const mail = await composeAlert(pool, payload as AlertSubject, config.publicUrl);
      if (mail) await mailer.send(mail);
    },
  };
}
