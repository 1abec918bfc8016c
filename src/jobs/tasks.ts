// Every background job the worker runs, and the ones it runs on a schedule.
import type { CronItem, TaskList } from 'graphile-worker';
import { generateBatchJob } from '../codes/batches.job';
import { processImportJob } from '../codes/imports.job';
import { deleteExpiredKeysJob } from '../http/idempotency.job';
import { sendAlertJob } from '../notify/alerts';
import { deliverWebhooksJob, sweepWebhooksJob, webhookDisabledMailJob } from '../webhooks/delivery.job';
import { failAbandonedJob } from './abandoned.job';
import { type JobContext, taskList } from './job';

const JOBS = [
  generateBatchJob,
  processImportJob,
  sendAlertJob,
  deleteExpiredKeysJob,
  failAbandonedJob,
  deliverWebhooksJob,
  sweepWebhooksJob,
  webhookDisabledMailJob,
];

/** Jobs run on a schedule (graphile-worker's cron: one run per slot across all workers). */
export const SCHEDULE: CronItem[] = [
  { task: deleteExpiredKeysJob.name, match: '17 * * * *', identifier: 'hourly-idempotency-cleanup' },
  { task: failAbandonedJob.name, match: '* * * * *', identifier: 'minutely-abandoned-jobs' },
  { task: sweepWebhooksJob.name, match: '* * * * *', identifier: 'minutely-webhook-deliveries' },
];

export const buildTaskList = (context: JobContext): TaskList => taskList(JOBS, context);
