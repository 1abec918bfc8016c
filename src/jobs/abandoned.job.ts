// A batch or import whose job ran out of attempts without marking it failed (the process was
// killed during the last one) is marked failed here, so that nothing stays pending for ever and
// the format room it held is given back.
import { Type } from '@sinclair/typebox';
import { failAbandonedBatches } from '../codes/batches.job';
import { failAbandonedImports } from '../codes/imports.job';
import { defineJob, type PayloadOf } from './job';

/** Run by the schedule, whose payload carries graphile-worker's `_cron` details: other fields are allowed. */
export const failAbandonedJob = defineJob('fail_abandoned_jobs', Type.Object({}), async (_payload, { pool, log }) => {
  const failed = (await failAbandonedBatches(pool)) + (await failAbandonedImports(pool));
  if (failed) log.warn({ failed }, 'marked failed the batches and imports whose jobs gave up');
});

declare global {
  namespace GraphileWorker {
    interface Tasks {
      [failAbandonedJob.name]: PayloadOf<typeof failAbandonedJob>;
    }
  }
}
