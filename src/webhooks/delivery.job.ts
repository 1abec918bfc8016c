// Webhook delivery: one job per enabled endpoint, `deliver_webhooks`, in its own named queue
// (`webhook:<id>`), so one run at a time per endpoint, which is what keeps the order. A run walks
// the outbox from the endpoint's cursor (events_after, in (xid, id) order) and POSTs each event
// it subscribes to, one after the other. Events delivered at the first try are recorded, with
// the cursor, in batches; the first failure is recorded at once and the run stops: the job comes
// back at the next retry (1 s doubling to 1 h, with jitter) and the later events wait. Caught up,
// the job adds itself again to run a second later, so new events are found without any write on
// the paths that record them. A minutely sweep makes sure every enabled endpoint has its job.
import { Type } from '@sinclair/typebox';
import type http from 'node:http';
import type { Config } from '../config';
import { transaction, type Pool, type Queryable } from '../db/pool';
import { NumericId } from '../http/schemas';
import { defineJob, type PayloadOf, type RunContext } from '../jobs/job';
import { recordAudit } from '../audit/audit.service';
import * as sql from './delivery.sql';
import { sign, signingSecrets, webhookKey } from './secrets';
import { agentFor, type Message, send, type SendResult } from './send';
import { type CheckedUrl, checkWebhookUrl } from './url';

/** Events read from the outbox at a time. */
const PAGE = 500;
/** Delivered events recorded, with the cursor, in one transaction. */
const FLUSH_EVERY = 200;
/** When caught up, the next look at the outbox. */
const POLL_MS = 1_000;
const RETRY_MS = { first: 1_000, most: 3_600_000 };

/** The message id of an event: the same for every attempt, so a receiver can drop duplicates. */
export const messageId = (eventId: string) => `evt_${eventId}`;

/** The body of an event's request; `data` is put in as the outbox holds it. */
export function eventBody(event: sql.OutboxEvent): string {
  const head = JSON.stringify({ id: messageId(event.id), type: event.type, created_at: event.created_at });
  return `${head.slice(0, -1)},"data":${event.data}}`;
}

export function signed(secrets: string[], id: string, body: string): Message {
  const timestamp = Math.floor(Date.now() / 1000);
  return { id, timestamp, body, signature: sign(secrets, id, timestamp, body) };
}

/** The wait before the next try after `attempts` failed ones. */
export function retryDelayMs(attempts: number): number {
  const full = Math.min(RETRY_MS.most, RETRY_MS.first * 2 ** Math.max(0, attempts - 1));
  return Math.round(full * (0.5 + Math.random() * 0.5));
}

const subscribes = (events: string[], type: string) => events.includes('*') || events.includes(type);

/** Adds the endpoint's job (to run at `runAt`, or now); 'preserve_run_at' keeps a retry already scheduled. */
export function scheduleDelivery(
  db: Queryable,
  endpointId: string,
  options: { runAt?: Date; keep?: boolean } = {},
): Promise<void> {
  return deliverWebhooksJob.enqueue(
    db,
    { endpoint_id: endpointId },
    {
      jobKey: `webhook:${endpointId}`,
      queueName: `webhook:${endpointId}`,
      runAt: options.runAt,
      jobKeyMode: options.keep ? 'preserve_run_at' : 'replace',
    },
  );
}

interface Target {
  checked: CheckedUrl | null;
  problem: string | null;
}

async function target(url: string, config: Readonly<Config>): Promise<Target> {
  try {
    return { checked: await checkWebhookUrl(url, { allowPrivate: config.webhookAllowPrivate }), problem: null };
  } catch (error) {
    return { checked: null, problem: (error as Error).message };
  }
}

export async function deliverWebhooks(endpointId: string, context: RunContext): Promise<void> {
  const { pool, config, signal } = context;
  const key = await webhookKey(config);
  let agent: http.Agent | undefined;
  let agentUrl: string | null = null;
  const done: sql.Delivered[] = [];
  let cursor: { xid: string; id: string } | null = null;
  const flush = async () => {
    if (!cursor) return;
    const { xid, id } = cursor;
    await transaction(pool, async (tx) => {
      await sql.recordDelivered(tx, endpointId, done);
      await sql.moveCursor(tx, endpointId, xid, id);
    });
    done.length = 0;
    cursor = null;
  };
  try {
    for (;;) {
      const endpoint = await sql.findDeliveryEndpoint(pool, endpointId);
      if (!endpoint?.enabled) return; // enabling it adds the job again
      if (signal?.aborted) return await scheduleDelivery(pool, endpointId);
      const events = await sql.eventsAfter(pool, endpoint.cursor_xid, endpoint.cursor_id, PAGE);
      if (!events.length) return await scheduleDelivery(pool, endpointId, { runAt: new Date(Date.now() + POLL_MS) });
      const wanted = events.filter((event) => subscribes(endpoint.events, event.type));
      const delivered = wanted.length
        ? await sql.deliveredAmong(
            pool,
            endpointId,
            wanted.map((e) => e.id),
          )
        : null;
      // Checked again for every page: the DNS answer may have changed since the URL was stored.
      const to = wanted.length ? await target(endpoint.url, config) : null;
      if (to?.checked && agentUrl !== to.checked.url.origin) {
        agent?.destroy();
        agent = agentFor(to.checked.url);
        agentUrl = to.checked.url.origin;
      }
      const secrets = signingSecrets(key, endpoint);
      for (const event of events) {
        if (signal?.aborted) break; // shutdown: what was sent is recorded below, the job added again
        if (subscribes(endpoint.events, event.type) && !delivered?.has(event.id)) {
          const result: SendResult = to?.checked
            ? await send(to.checked, signed(secrets, messageId(event.id), eventBody(event)), agent)
            : { ok: false, status: null, latencyMs: 0, body: null, error: to?.problem ?? 'no URL' };
          if (!result.ok) {
            await flush();
            await failed(pool, config, endpointId, event, result);
            return;
          }
          done.push({
            eventId: event.id,
            type: event.type,
            status: result.status!,
            latencyMs: result.latencyMs,
            body: result.body,
          });
        }
        cursor = { xid: event.xid, id: event.id };
        if (done.length >= FLUSH_EVERY) await flush();
      }
      await flush();
    }
  } finally {
    agent?.destroy();
  }
}

/**
 * Records a failed attempt and schedules the next; an endpoint whose oldest undelivered event
 * has failed for longer than WEBHOOK_RETRY_FOR is disabled instead, and the admins are told.
 */
async function failed(
  pool: Pool,
  config: Readonly<Config>,
  endpointId: string,
  event: sql.OutboxEvent,
  result: SendResult,
): Promise<void> {
  await transaction(pool, async (tx) => {
    const before = await tx.query<{ attempts: number }>(
      'SELECT attempts FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2',
      [endpointId, event.id],
    );
    const nextRetryAt = new Date(Date.now() + retryDelayMs((before.rows[0]?.attempts ?? 0) + 1));
    const row = await sql.recordAttempt(tx, endpointId, {
      ...result,
      eventId: event.id,
      type: event.type,
      nextRetryAt,
    });
    const failingFor = row.first_failed_at ? Date.now() - row.first_failed_at.getTime() : 0;
    if (failingFor > config.webhookRetryForSeconds * 1000) {
      await disableFailing(tx, endpointId, row);
      return;
    }
    await scheduleDelivery(tx, endpointId, { runAt: nextRetryAt });
  });
}

async function disableFailing(tx: Parameters<typeof recordAudit>[0], endpointId: string, row: sql.DeliveryRow) {
  const before = await tx.query('SELECT enabled, disabled_at, disabled_reason FROM webhook_endpoints WHERE id = $1', [
    endpointId,
  ]);
  if (!(await sql.disableFailing(tx, endpointId))) return;
  await tx.query('UPDATE webhook_deliveries SET next_retry_at = NULL WHERE id = $1', [row.id]);
  const after = await tx.query('SELECT enabled, disabled_at, disabled_reason FROM webhook_endpoints WHERE id = $1', [
    endpointId,
  ]);
  await recordAudit(
    tx,
    { actor: 'system', requestId: null },
    {
      action: 'webhook_endpoint.disable',
      entityType: 'webhook_endpoint',
      entityId: endpointId,
      before: before.rows[0],
      after: { ...after.rows[0], failing_event_id: messageId(row.event_id), last_error: row.last_error },
    },
  );
  for (const to of await sql.adminEmails(tx)) await webhookDisabledMailJob.enqueue(tx, { endpoint_id: endpointId, to });
}

/** Delivers an endpoint's events in order; a failed run is retried by the worker like any job. */
export const deliverWebhooksJob = defineJob(
  'deliver_webhooks',
  Type.Object({ endpoint_id: NumericId }),
  ({ endpoint_id }, context) => deliverWebhooks(endpoint_id, context),
);

/** Adds the job of every enabled endpoint that has none; a job already there keeps its time. */
export async function ensureDeliveryJobs(pool: Pool): Promise<void> {
  for (const id of await sql.enabledEndpointIds(pool)) await scheduleDelivery(pool, id, { keep: true });
}

/** Every minute: every enabled endpoint has its job (one lost to an outage is added again). */
export const sweepWebhooksJob = defineJob('sweep_webhooks', Type.Object({}), (_payload, { pool }) =>
  ensureDeliveryJobs(pool),
);

/** Tells an admin that an endpoint was disabled because its deliveries kept failing. */
export const webhookDisabledMailJob = defineJob(
  'mail_webhook_disabled',
  Type.Object({ endpoint_id: NumericId, to: Type.String() }),
  async ({ endpoint_id, to }, { pool, config, mailer }) => {
    const { rows } = await pool.query<{ url: string; disabled_reason: string | null }>(
      'SELECT url, disabled_reason FROM webhook_endpoints WHERE id = $1',
      [endpoint_id],
    );
    const endpoint = rows[0];
    if (endpoint?.disabled_reason !== 'failing') return;
    const days = Math.round((config.webhookRetryForSeconds / 86400) * 10) / 10;
    await mailer.send({
      to,
      subject: `Webhook endpoint #${endpoint_id} was disabled: its deliveries kept failing`,
      text: [
        `The webhook endpoint #${endpoint_id} (${endpoint.url}) did not accept an event for ${days} days,`,
        'so it was disabled; the events after it were not sent.',
        '',
        `See its deliveries, then enable it again to resume where it stopped: ${config.publicUrl}`,
      ].join('\n'),
    });
  },
);

declare global {
  namespace GraphileWorker {
    interface Tasks {
      [deliverWebhooksJob.name]: PayloadOf<typeof deliverWebhooksJob>;
      [sweepWebhooksJob.name]: PayloadOf<typeof sweepWebhooksJob>;
      [webhookDisabledMailJob.name]: PayloadOf<typeof webhookDisabledMailJob>;
    }
  }
}
