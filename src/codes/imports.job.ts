// The import job: moves staged lines into codes, a chunk per transaction. A crash rolls back
// the chunk in flight; the lines stay staged and the job resumes with them.
//
// Chunk transactions commit without waiting for their WAL to reach disk (synchronous_commit
// off): a database crash may then lose the last chunks committed, but only whole ones, with the
// staged lines they removed, and the job (whose own completion is a durable commit, which
// flushes every earlier one) does them again. The finishing transaction commits durably.
import { Type } from '@sinclair/typebox';
import { transaction, type Pool } from '../db/pool';
import { NumericId } from '../http/schemas';
import { defineJob, type PayloadOf } from '../jobs/job';
import { findAbandoned } from '../jobs/queue';
import { queueAlert } from '../notify/alerts';
import { metrics } from '../ops/metrics';
import * as sql from './imports.sql';
import { recordEvent } from '../events/events';

/**
 * Lines per transaction: a million (the default upload limit) in one sorted sweep of the
 * primary key; bigger uploads take several. Memory is PostgreSQL's (work_mem, see imports.sql.ts).
 */
const CHUNK = 1_000_000;

/** Processes an import to the end; `chunk` (lines per transaction) is smaller only in tests. */
export async function processImport(pool: Pool, importId: string, signal?: AbortSignal, chunk = CHUNK): Promise<void> {
  let optimistic = true;
  for (;;) {
    if (signal?.aborted) throw new Error('import interrupted by shutdown; it resumes where it stopped');
    let accepted = 0;
    const done = await transaction(pool, async (tx) => {
      accepted = 0;
      const imp = await sql.findImport(tx, importId, true);
      if (imp?.status !== 'pending') return true;
      await tx.query('SET LOCAL synchronous_commit = off');
      const processed = await sql.processImportChunk(tx, imp, chunk, optimistic);
      const { lines, clashed } = processed;
      accepted = processed.accepted;
      if (clashed) optimistic = false;
      if (lines > 0) return false;
      await tx.query('SET LOCAL synchronous_commit = on');
      const finished = await sql.finishImport(tx, importId, 'active', null);
      if (finished) {
        await queueAlert(tx, { kind: 'import', id: importId }, finished.notify);
        await recordEvent(tx, 'import.completed', finished);
      }
      return true;
    });
    metrics.codesImported.inc(accepted);
    if (done) return;
  }
}

export async function failImport(pool: Pool, importId: string, error: string): Promise<void> {
  await transaction(pool, async (tx) => {
    const finished = await sql.finishImport(tx, importId, 'failed', error);
    if (finished) {
      await queueAlert(tx, { kind: 'import', id: importId }, finished.notify);
      await recordEvent(tx, 'import.failed', finished);
    }
  });
}

/** Fails the imports whose jobs gave up without saying so; returns how many. */
export async function failAbandonedImports(pool: Pool): Promise<number> {
  const abandoned = await findAbandoned(pool, 'import');
  for (const { id, last_error } of abandoned)
    await failImport(pool, id, `import failed: ${last_error ?? 'its job stopped'}`);
  return abandoned.length;
}

/** Processes an import: interruptions resume it; the last attempt's failure fails the import. */
export const processImportJob = defineJob(
  'process_import',
  Type.Object({ import_id: NumericId }),
  ({ import_id }, { pool, signal }) => processImport(pool, import_id, signal),
  { fail: ({ import_id }, error, { pool }) => failImport(pool, import_id, `import failed: ${error.message}`) },
);

declare global {
  namespace GraphileWorker {
    interface Tasks {
      [processImportJob.name]: PayloadOf<typeof processImportJob>;
    }
  }
}
