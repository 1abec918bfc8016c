// The import job: moves staged lines into codes, a chunk per transaction. A crash rolls back
// the chunk in flight; the lines stay staged and the job resumes with them.
import type { JobHelpers } from 'graphile-worker';
import { transaction, type Pool } from '../db/pool';
import { enqueue } from '../jobs/queue';
import { SEND_ALERT } from './batches.job';
import * as sql from './imports.sql';

const CHUNK = 200_000;

export async function processImport(pool: Pool, importId: string, signal?: AbortSignal): Promise<void> {
  for (;;) {
    if (signal?.aborted) throw new Error('import interrupted by shutdown; it resumes where it stopped');
    const done = await transaction(pool, async (tx) => {
      const imp = await sql.findImport(tx, importId, true);
      if (!imp || imp.status !== 'pending') return true;
      const { lines } = await sql.processImportChunk(tx, imp, CHUNK);
      if (lines > 0) return false;
      const finished = await sql.finishImport(tx, importId, 'active', null);
      if (finished?.notify.length) await enqueue(tx, SEND_ALERT, { kind: 'import', id: importId });
      return true;
    });
    if (done) return;
  }
}

export async function failImport(pool: Pool, importId: string, error: string): Promise<void> {
  await transaction(pool, async (tx) => {
    const finished = await sql.finishImport(tx, importId, 'failed', error);
    if (finished?.notify.length) await enqueue(tx, SEND_ALERT, { kind: 'import', id: importId });
  });
}

export function processImportTask(pool: Pool) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const importId = String((payload as { import_id: string }).import_id);
    try {
      await processImport(pool, importId, helpers.abortSignal);
    } catch (error) {
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        await failImport(pool, importId, `import failed: ${(error as Error).message}`);
        return;
      }
      throw error;
    }
  };
}
