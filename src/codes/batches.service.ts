// Batches of generated single-use codes: accepted at once (202), made by a background job.
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { DomainError, invalid, notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import { jobKey } from '../jobs/queue';
import { findList } from '../lists/lists.sql';
import { openListForCodes } from '../lists/lists.service';
import { generateBatchJob } from './batches.job';
import * as sql from './batches.sql';
import type { CreateBatch } from './batches.schema';
import { DEFAULT_FORMAT, SPARSITY, formatCapacity, formatKey, type CodeFormat } from './format';
import { pageSize } from '../http/schemas';

export async function createBatch(tx: Tx, ctx: AuditContext, listId: string, input: CreateBatch, maxCodes: number) {
  if (input.count > maxCodes) {
    throw invalid([{ path: 'body.count', message: `must be at most ${maxCodes} (MAX_CODES_PER_REQUEST)` }]);
  }
  await openListForCodes(tx, listId, 'single_use', 'batches');

  const format: CodeFormat = {
    length: input.format?.length ?? DEFAULT_FORMAT.length,
    prefix: (input.format?.prefix ?? '').toUpperCase(),
    suffix: (input.format?.suffix ?? '').toUpperCase(),
    charset: input.format?.charset ?? DEFAULT_FORMAT.charset,
  };
  const key = formatKey(format);
  const capacity = formatCapacity(format);
  if (!(await sql.reserveFormat(tx, key, input.count, capacity))) {
    const room = capacity - (await sql.reservedFor(tx, key));
    const maxCount = room > 0n ? room : 0n;
    throw new DomainError(
      'code_space_too_small',
      `this format has room for ${maxCount} more codes: ` +
        `at most 1/${SPARSITY} of its ${capacity * SPARSITY} possible codes may be in use`,
      { max_count: Number(maxCount), possible_codes: (capacity * SPARSITY).toString() },
    );
  }
  const batch = await sql.insertBatch(tx, {
    listId,
    name: input.name ?? null,
    requested: input.count,
    notify: input.notify ?? [],
    format,
    formatKey: key,
    createdBy: ctx.actor,
  });
  await generateBatchJob.enqueue(tx, { batch_id: batch.id }, { jobKey: jobKey('batch', batch.id) });
  await recordAudit(tx, ctx, { action: 'batch.create', entityType: 'batch', entityId: batch.id, after: batch });
  return batch;
}

export async function getBatch(db: Queryable, id: string) {
  const batch = await sql.findBatch(db, id);
  if (!batch) throw notFound('batch', id);
  const { format_key: _key, ...rest } = batch;
  return rest;
}

export async function listBatches(db: Queryable, listId: string, query: { limit?: number; cursor?: string }) {
  const limit = pageSize(query);
  if (!(await findList(db, listId))) throw notFound('list', listId);
  const before = (decodeCursor(query.cursor, ['id'])?.[0] as string | undefined) ?? null;
  return page(await sql.listBatches(db, listId, before, limit + 1), limit, (b) => [b.id]);
}
