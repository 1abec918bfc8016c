// The hourly cleanup of idempotency keys past their window (see idempotency.ts).
import { Type } from '@sinclair/typebox';
import { defineJob, type PayloadOf } from '../jobs/job';
import { deleteExpiredKeys } from './idempotency';

/** Run by the schedule, whose payload carries graphile-worker's `_cron` details: other fields are allowed. */
export const deleteExpiredKeysJob = defineJob(
  'delete_expired_idempotency_keys',
  Type.Object({}),
  async (_payload, { pool, log }) => {
    const deleted = await deleteExpiredKeys(pool);
    if (deleted) log.info({ deleted }, 'deleted expired idempotency keys');
  },
);

declare global {
  namespace GraphileWorker {
    interface Tasks {
      [deleteExpiredKeysJob.name]: PayloadOf<typeof deleteExpiredKeysJob>;
    }
  }
}
