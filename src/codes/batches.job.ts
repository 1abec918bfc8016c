// The generation job: makes a batch's codes in chunks, each chunk one transaction that inserts
// the codes and advances `generated`. A process killed at any moment loses at most the chunk in
// flight, which rolls back; the job then resumes from `generated` and stops at exactly
// `requested`: the batch row lock, and each insert taking at most the room left, make more
// impossible.
//
// Chunk transactions commit without waiting for their WAL to reach disk (synchronous_commit
// off; ~50 ms a chunk): a database crash may then lose the last chunks committed, but only whole
// ones, `generated` with them, and the job makes them again. The finishing transaction commits
// durably, which also flushes every chunk before it.
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { transaction, type Pool } from '../db/pool';
import { NumericId } from '../http/schemas';
import { defineJob, type PayloadOf } from '../jobs/job';
import { findAbandoned } from '../jobs/queue';
import { queueAlert } from '../notify/alerts';
import { metrics } from '../ops/metrics';
import * as sql from './batches.sql';
import { generateRows, type Slice } from './generator';
import { recordEvent } from '../events/events';

/** Codes per transaction (125k to 500k measured the same with COPY; test/codes/batch-crash relies on it). */
const CHUNK = 250_000;
/** Chunks in a row that found no new code before the format is declared exhausted. */
const FRUITLESS_LIMIT = 20;

/**
 * A chunk's codes, generated as the batch's COPY rows after an await, so that the caller's I/O
 * goes out first.
 */
async function generateSoon(
  batch: sql.BatchRow,
  count: number,
  slice: Slice,
): Promise<{ count: number; codes: sql.BatchCodes }> {
  await new Promise((resolve) => setImmediate(resolve));
  const codes = generateRows(batch.format, count, slice, sql.batchFields(batch));
  return { count: codes.count, codes };
}

/** The batch is made in slices of the code space, in order, one chunk each (see generator.ts). */
function sliceAt(made: number, requested: number): Slice {
  const of = Math.ceil(requested / CHUNK);
  return { index: Math.min(of - 1, Math.floor(made / CHUNK)), of };
}

export async function generateBatch(pool: Pool, batchId: string, log: Logger, signal?: AbortSignal): Promise<void> {
  const batch = await sql.findBatch(pool, batchId);
  if (batch?.status !== 'pending') return;
  const { requested } = batch;
  let remaining = requested - batch.generated;
  let fruitless = 0;
  let optimistic = true;
  const make = (made: number, left: number) => generateSoon(batch, Math.min(CHUNK, left), sliceAt(made, requested));
  let next = remaining > 0 ? make(batch.generated, remaining) : null;
  while (remaining > 0) {
    if (signal?.aborted) throw new Error('generation interrupted by shutdown; it resumes where it stopped');
    const chunk = await next!;
    // Make the next chunk while PostgreSQL inserts this one, once this one's codes are sent:
    // making codes holds the event loop, which would otherwise delay the insert's round trips
    // and its data. Clashes are rare, so assume none.
    const expected = remaining - chunk.count;
    next = null;
    const makeNext = () => {
      next = expected > 0 ? make(requested - expected, expected) : null;
    };
    const insert = transaction(pool, async (tx) => {
      await tx.query('SET LOCAL synchronous_commit = off');
      const locked = await sql.findBatch(tx, batchId, true);
      if (locked?.status !== 'pending') return null;
      const room = locked.requested - locked.generated;
      if (room === 0) return { inserted: 0, clashed: false, left: 0 };
      const result = await sql.insertBatchCodes(tx, locked, chunk.codes, room, optimistic, makeNext);
      return { ...result, left: room - result.inserted };
    });
    const result = await insert;
    if (!result) return; // finished or failed elsewhere
    metrics.codesGenerated.inc(result.inserted);
    if (result.clashed) optimistic = false;
    remaining = result.left;
    fruitless = result.inserted === 0 ? fruitless + 1 : 0;
    if (fruitless >= FRUITLESS_LIMIT) {
      await failBatch(pool, batchId, 'no new codes could be found in this format; its space is exhausted');
      return;
    }
    if (remaining > 0 && !next) next = make(requested - remaining, remaining);
    log.debug({ batchId, inserted: result.inserted, remaining }, 'batch chunk committed');
  }
  await transaction(pool, async (tx) => {
    const done = await sql.finishBatch(tx, batchId, 'active', null);
    if (!done) return;
    await queueAlert(tx, { kind: 'batch', id: batchId }, done.notify);
    await recordEvent(tx, 'batch.completed', done);
  });
}

/** Marks a batch failed, gives back the format room it did not use, and alerts. */
export async function failBatch(pool: Pool, batchId: string, error: string): Promise<void> {
  await transaction(pool, async (tx) => {
    const batch = await sql.findBatch(tx, batchId, true);
    if (batch?.status !== 'pending') return;
    const failed = (await sql.finishBatch(tx, batchId, 'failed', error))!;
    await sql.releaseFormat(tx, batch.format_key, batch.requested - batch.generated);
    await queueAlert(tx, { kind: 'batch', id: batchId }, batch.notify);
    await recordEvent(tx, 'batch.failed', failed);
  });
}

/** Fails the batches whose jobs gave up without saying so; returns how many. */
export async function failAbandonedBatches(pool: Pool): Promise<number> {
  const abandoned = await findAbandoned(pool, 'batch');
  for (const { id, last_error } of abandoned)
    await failBatch(pool, id, `generation failed: ${last_error ?? 'its job stopped'}`);
  return abandoned.length;
}

/** Makes a batch's codes: interruptions resume it; the last attempt's failure fails the batch. */
export const generateBatchJob = defineJob(
  'generate_batch',
  Type.Object({ batch_id: NumericId }),
  ({ batch_id }, { pool, log, signal }) => generateBatch(pool, batch_id, log, signal),
  { fail: ({ batch_id }, error, { pool }) => failBatch(pool, batch_id, `generation failed: ${error.message}`) },
);

declare global {
  namespace GraphileWorker {
    interface Tasks {
      [generateBatchJob.name]: PayloadOf<typeof generateBatchJob>;
    }
  }
}
