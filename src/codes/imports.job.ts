// The import job: moves staged lines into codes, a chunk per transaction. A crash rolls back
// the chunk in flight; the lines stay staged and the job resumes with them.
import { transaction, type Pool } from '../db/pool';
import { failingOnLastAttempt } from '../jobs/queue';
import { queueAlert } from '../notify/alerts';
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
      if (finished) await queueAlert(tx, { kind: 'import', id: importId }, finished.notify);
      return true;
    });
    if (done) return;
  }
}

export async function failImport(pool: Pool, importId: string, error: string): Promise<void> {
  await transaction(pool, async (tx) => {
    const finished = await sql.finishImport(tx, importId, 'failed', error);
    if (finished) await queueAlert(tx, { kind: 'import', id: importId }, finished.notify);
  });
}

/** The graphile-worker task: retries on error; the last attempt's failure fails the import. */
export const processImportTask = (pool: Pool) =>
  failingOnLastAttempt(
    (payload) => String((payload as { import_id: string }).import_id),
    (importId, signal) => processImport(pool, importId, signal),
    (importId, error) => failImport(pool, importId, `import failed: ${error.message}`),
  );
