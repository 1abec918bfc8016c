// An endpoint's delivery log, and the sends an admin asks for: one event again, out of the
// order (the attempt is recorded like any other), or a test message that is not an event.
import { randomUUID } from 'node:crypto';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { transaction, type Pool, type Queryable } from '../db/pool';
import { notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import * as sql from './delivery.sql';
import { eventBody, messageId, scheduleDelivery, signed } from './delivery.job';
import { signingSecrets } from './secrets';
import { send } from './send';
import { checkWebhookUrl } from './url';
import type { WebhookSettings } from './webhooks.service';

export const presentDelivery = (row: sql.DeliveryRow) => ({
  id: row.id,
  event_id: messageId(row.event_id),
  event_type: row.event_type,
  attempts: row.attempts,
  last_status_code: row.last_status_code,
  last_latency_ms: row.last_latency_ms,
  last_response_body: row.last_response_body,
  last_error: row.last_error,
  next_retry_at: row.next_retry_at,
  delivered_at: row.delivered_at,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

async function endpointOf(db: Queryable, id: string) {
  const endpoint = await sql.findDeliveryEndpoint(db, id);
  if (!endpoint) throw notFound('webhook_endpoint', id);
  return endpoint;
}

export async function listDeliveries(db: Queryable, endpointId: string, query: { limit: number; cursor?: string }) {
  await endpointOf(db, endpointId);
  const before = decodeCursor(query.cursor, ['id'])?.[0] as string | undefined;
  const rows = await sql.listDeliveries(db, endpointId, before ?? null, query.limit + 1);
  const result = page(rows, query.limit, (row) => [row.id]);
  return { items: result.items.map(presentDelivery), next_cursor: result.next_cursor };
}

/**
 * Sends a delivery's event again now, signed as delivery signs it, and records the attempt. A
 * retry that succeeds for the event delivery is stuck on lets the endpoint's job go on at once.
 */
export async function retryDelivery(
  pool: Pool,
  ctx: AuditContext,
  settings: WebhookSettings,
  endpointId: string,
  deliveryId: string,
) {
  const endpoint = await endpointOf(pool, endpointId);
  const before = await sql.findDelivery(pool, endpointId, deliveryId);
  const event = before && (await sql.findEvent(pool, before.event_id));
  if (!before || !event) throw notFound('webhook_delivery', deliveryId);
  const checked = await checkWebhookUrl(endpoint.url, { allowPrivate: settings.allowPrivate });
  const secrets = signingSecrets(settings.key, endpoint);
  const result = await send(checked, signed(secrets, messageId(event.id), eventBody(event)));
  return transaction(pool, async (tx) => {
    const after = await sql.recordAttempt(tx, endpointId, {
      ...result,
      eventId: event.id,
      type: event.type,
      nextRetryAt: before.next_retry_at,
    });
    if (result.ok && before.delivered_at === null && endpoint.enabled) await scheduleDelivery(tx, endpointId);
    const delivery = presentDelivery(after);
    await recordAudit(tx, ctx, {
      action: 'webhook_delivery.retry',
      entityType: 'webhook_endpoint',
      entityId: endpointId,
      before: presentDelivery(before),
      after: delivery,
    });
    return delivery;
  });
}

/** Sends a signed `webhook.test` message (not an event; nothing is recorded) and tells how it went. */
export async function testEndpoint(db: Queryable, settings: WebhookSettings, endpointId: string) {
  const endpoint = await endpointOf(db, endpointId);
  const checked = await checkWebhookUrl(endpoint.url, { allowPrivate: settings.allowPrivate });
  const id = `msg_test_${randomUUID()}`;
  const body = JSON.stringify({
    id,
    type: 'webhook.test',
    created_at: new Date().toISOString(),
    data: { endpoint_id: endpoint.id },
  });
  const result = await send(checked, signed(signingSecrets(settings.key, endpoint), id, body));
  return {
    ok: result.ok,
    status_code: result.status,
    latency_ms: result.latencyMs,
    response_body: result.body,
    error: result.error,
  };
}
