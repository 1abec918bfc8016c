// Webhook endpoints: where events are sent. The signing secret is derived (webhooks/secrets.ts)
// and shown only when it is made: on creation and on rotation. The URL is checked before it is
// stored (webhooks/url.ts).
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import { scheduleDelivery } from './delivery.job';
import { forgetFailures } from './delivery.sql';
import { endpointSecret, previousSecretUntil } from './secrets';
import { checkWebhookUrl } from './url';
import type { CreateWebhookEndpoint, UpdateWebhookEndpoint } from './webhooks.schema';
import * as sql from './webhooks.sql';

export interface WebhookSettings {
  /** The key secrets are derived from (WEBHOOK_KEY or DATA_DIR/webhook.key). */
  key: Buffer;
  allowPrivate: boolean;
}

export function presentEndpoint(row: sql.WebhookEndpointRow, now = new Date()) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    secret_version: row.secret_version,
    secret_rotated_at: row.secret_rotated_at,
    previous_secret_expires_at: previousSecretUntil(row, now),
    disabled_at: row.disabled_at,
    disabled_reason: row.disabled_reason,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The answer that shows a secret: the endpoint and the secret of its current version. */
export const withSecret = (key: Buffer, endpoint: ReturnType<typeof presentEndpoint>) => ({
  ...endpoint,
  secret: endpointSecret(key, endpoint.id, endpoint.secret_version),
});

export async function createEndpoint(
  tx: Tx,
  ctx: AuditContext,
  settings: WebhookSettings,
  input: CreateWebhookEndpoint,
) {
  await checkWebhookUrl(input.url, { allowPrivate: settings.allowPrivate });
  const row = await sql.insertEndpoint(tx, {
    url: input.url,
    events: [...input.events],
    description: input.description ?? null,
    enabled: input.enabled ?? true,
    createdBy: ctx.actor,
  });
  const endpoint = presentEndpoint(row);
  // Its delivery job exists exactly when the endpoint does (delivery.job.ts).
  if (row.enabled) await scheduleDelivery(tx, row.id);
  await recordAudit(tx, ctx, {
    action: 'webhook_endpoint.create',
    entityType: 'webhook_endpoint',
    entityId: row.id,
    after: endpoint,
  });
  return withSecret(settings.key, endpoint);
}

export async function listEndpoints(db: Queryable, query: { limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, ['id'])?.[0] as string | undefined;
  const rows = await sql.listEndpoints(db, after ?? null, query.limit + 1);
  const result = page(rows, query.limit, (row) => [row.id]);
  return { items: result.items.map((row) => presentEndpoint(row)), next_cursor: result.next_cursor };
}

export async function getEndpoint(db: Queryable, id: string) {
  const row = await sql.findEndpoint(db, id);
  if (!row) throw notFound('webhook_endpoint', id);
  return presentEndpoint(row);
}

export async function updateEndpoint(
  tx: Tx,
  ctx: AuditContext,
  settings: WebhookSettings,
  id: string,
  changes: UpdateWebhookEndpoint,
) {
  // Before the row is locked: resolving the host may take a while.
  if (changes.url !== undefined) await checkWebhookUrl(changes.url, { allowPrivate: settings.allowPrivate });
  const before = await sql.findEndpoint(tx, id, true);
  if (!before) throw notFound('webhook_endpoint', id);
  const after = await sql.updateEndpoint(tx, id, {
    ...changes,
    events: changes.events ? [...changes.events] : undefined,
  });
  const endpoint = presentEndpoint(after);
  // Enabled again: delivery resumes at once, from where it stopped. A new URL or new event
  // types end the wait for a retry: the fix is tried now, not at the next backoff step.
  if (after.enabled && !before.enabled) {
    await forgetFailures(tx, id);
    await scheduleDelivery(tx, id);
  } else if (after.enabled && (changes.url !== undefined || changes.events !== undefined)) {
    await scheduleDelivery(tx, id);
  }
  await recordAudit(tx, ctx, {
    action: 'webhook_endpoint.update',
    entityType: 'webhook_endpoint',
    entityId: id,
    before: presentEndpoint(before),
    after: endpoint,
  });
  return endpoint;
}

export async function deleteEndpoint(tx: Tx, ctx: AuditContext, id: string) {
  const before = await sql.findEndpoint(tx, id, true);
  if (!before) throw notFound('webhook_endpoint', id);
  await sql.deleteEndpoint(tx, id);
  const endpoint = presentEndpoint(before);
  await recordAudit(tx, ctx, {
    action: 'webhook_endpoint.delete',
    entityType: 'webhook_endpoint',
    entityId: id,
    before: endpoint,
  });
  return endpoint;
}

/**
 * A new secret, shown once. The one it replaces keeps signing for 24 h, so receivers can
 * switch without refusing a delivery; a second rotation within that time ends the oldest at once.
 */
export async function rotateSecret(tx: Tx, ctx: AuditContext, key: Buffer, id: string) {
  const before = await sql.findEndpoint(tx, id, true);
  if (!before) throw notFound('webhook_endpoint', id);
  const endpoint = presentEndpoint(await sql.rotateSecret(tx, id));
  await recordAudit(tx, ctx, {
    action: 'webhook_endpoint.rotate_secret',
    entityType: 'webhook_endpoint',
    entityId: id,
    before: presentEndpoint(before),
    after: endpoint,
  });
  return withSecret(key, endpoint);
}
