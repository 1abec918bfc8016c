// Promo code lists: creation with its outcome checked against the catalog, reads with the
// derived status and metrics, search, and the few edits a live list allows.
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { missingReferences } from '../catalog/catalog.sql';
import { CODE_PROBLEMS, codeProblem, normalizeCode } from '../codes/normalize';
import { DomainError, conflict, invalid, notFound, type ErrorDetail } from '../http/errors';
import { decodeCursor, encodeCursor } from '../http/pagination';
import { parseTimestamp } from '../http/timestamps';
import * as sql from './lists.sql';
import { NOT_EDITABLE, type CreateList, type ListQuery, type OutcomeInput, type UpdateList } from './lists.schema';
import { spreadCap } from './counters';
import { pageSize } from '../http/schemas';
import { recordEvent } from '../events/events';

export async function createList(tx: Tx, ctx: AuditContext, input: CreateList) {
  const problems: ErrorDetail[] = [];
  const startsAt = input.starts_at === undefined ? null : parseTimestamp(input.starts_at, 'body.starts_at');
  const endsAt = input.ends_at == null ? null : parseTimestamp(input.ends_at, 'body.ends_at');
  if (endsAt && endsAt <= (startsAt ?? new Date())) {
    problems.push({ path: 'body.ends_at', message: 'must be after starts_at' });
  }
  let code: string | null = null;
  if (input.type === 'multi_use') {
    if (input.code === undefined) problems.push({ path: 'body.code', message: 'is required for a multi_use list' });
    else {
      code = normalizeCode(input.code);
      const problem = codeProblem(code);
      if (problem) problems.push({ path: 'body.code', message: `${CODE_PROBLEMS[problem]} (${problem})` });
    }
  } else if (input.code !== undefined) {
    problems.push({
      path: 'body.code',
      message: `only a multi_use list has a code; ${input.type} codes come from batches or imports`,
    });
  }
  problems.push(...(await outcomeProblems(tx, input.outcome)));
  if (problems.length) throw invalid(problems);

  const id = await sql.insertList(tx, {
    name: input.name,
    description: input.description ?? null,
    type: input.type,
    startsAt,
    endsAt,
    redemptionCap: input.redemption_cap ?? null,
    outcome: input.outcome,
    codeDisplay: input.type === 'multi_use' ? input.code!.trim() : null,
  });
  if (code !== null && !(await sql.insertListCode(tx, code, id, input.code!.trim()))) {
    throw conflict('code_taken', `the code ${code} is already in use`, {
      fields: [{ path: 'body.code', message: 'is already in use' }],
    });
  }
  const list = (await sql.findList(tx, id))!;
  await recordAudit(tx, ctx, { action: 'list.create', entityType: 'list', entityId: id, after: auditView(list) });
  await recordEvent(tx, 'list.created', list);
  return list;
}

/** Outcome references that do not exist in the catalog, as validation details. */
async function outcomeProblems(db: Queryable, outcome: OutcomeInput): Promise<ErrorDetail[]> {
  const missing = await missingReferences(db, {
    account: outcome.points?.account,
    source: outcome.points?.source,
    offers: outcome.offers ?? [],
  });
  return [
    ...missing.accounts.map((key) => ({ path: 'body.outcome.points.account', message: `no point account "${key}"` })),
    ...missing.sources.map((key) => ({ path: 'body.outcome.points.source', message: `no point source "${key}"` })),
    ...missing.offers.map((id) => ({
      path: `body.outcome.offers.${outcome.offers!.indexOf(id)}`,
      message: `no offer "${id}"`,
    })),
  ];
}

export async function getList(db: Queryable, id: string) {
  const list = await sql.findList(db, id);
  if (!list) throw notFound('list', id);
  return list;
}

/**
 * The list that a batch or import is about to add codes to, locked against edits until the
 * transaction ends: it must exist, be of `type`, and not be completed.
 */
export async function openListForCodes(tx: Tx, id: string, type: 'single_use' | 'third_party', what: string) {
  await tx.query('SELECT 1 FROM lists WHERE id = $1 FOR SHARE', [id]);
  const list = await getList(tx, id);
  if (list.type !== type) throw conflict('wrong_list_type', `${what} are for ${type} lists; this list is ${list.type}`);
  if (list.status === 'completed') throw conflict('list_completed', `the list is completed (${list.completed_reason})`);
  return list;
}

export async function updateList(tx: Tx, ctx: AuditContext, id: string, changes: UpdateList) {
  const fixed = NOT_EDITABLE.filter((field) => field in changes);
  if (fixed.length) {
    throw new DomainError(
      'field_not_editable',
      `${fixed.join(', ')} cannot change once a list exists; editable: name, description, ends_at, redemption_cap`,
      { fields: fixed.map((field) => ({ path: `body.${field}`, message: 'is not editable' })) },
    );
  }
  const { ends_at: endsAtText, ...rest } = changes;
  const endsAt = endsAtText == null ? endsAtText : parseTimestamp(endsAtText, 'body.ends_at');
  const before = await sql.lockList(tx, id);
  if (!before) throw notFound('list', id);
  if (endsAt && endsAt <= before.starts_at) {
    throw invalid([{ path: 'body.ends_at', message: 'must be after starts_at' }]);
  }
  if (changes.redemption_cap != null && changes.redemption_cap < before.claim_count) {
    throw conflict(
      'redemption_cap_below_claim_count',
      `the list has ${before.claim_count} claims; the cap cannot be set below that`,
      { fields: [{ path: 'body.redemption_cap', message: `must be at least ${before.claim_count}` }] },
    );
  }
  await sql.updateList(tx, id, 'ends_at' in changes ? { ...rest, ends_at: endsAt } : rest);
  if ('redemption_cap' in changes) await spreadCap(tx, id);
  const after = (await sql.findList(tx, id))!;
  await recordAudit(tx, ctx, {
    action: 'list.update',
    entityType: 'list',
    entityId: id,
    before: auditView(before),
    after: auditView(after),
  });
  await recordEvent(tx, 'list.updated', after);
  return after;
}

/** The configured fields of a list, without the figures that change with every claim. */
function auditView(list: sql.ListRow) {
  const { name, description, type, starts_at, ends_at, redemption_cap, outcome, code } = list;
  return { name, description, type, starts_at, ends_at, redemption_cap, outcome, code };
}

export async function searchLists(db: Queryable, query: ListQuery) {
  const limit = pageSize(query);
  const sort = query.sort ?? 'created_at';
  const order = query.order ?? (query.sort ? 'asc' : 'desc');
  const after = decodeCursor(query.cursor, ['text', 'id']) as [string, string] | null;
  const rows = await sql.searchLists(db, {
    q: query.q,
    type: query.type,
    status: query.status,
    sort,
    order,
    after,
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(({ sort_key: _sortKey, ...list }) => list),
    next_cursor: rows.length > limit && last ? encodeCursor([last.sort_key, last.id]) : null,
  };
}
