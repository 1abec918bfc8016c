// Alerts when a batch or import with `notify` addresses finishes or fails. A message names the
// list and links to the dashboard; it never contains a code.
import { type Static, Type } from '@sinclair/typebox';
import type { Queryable } from '../db/pool';
import { NumericId } from '../http/schemas';
import { defineJob, type PayloadOf } from '../jobs/job';
import type { Mail } from './mailer';

const AlertSubject = Type.Object({
  kind: Type.Union([Type.Literal('batch'), Type.Literal('import')]),
  id: NumericId,
  /** The one address this alert goes to (jobs queued by older versions have none: all of notify). */
  to: Type.Optional(Type.String()),
});
export type AlertSubject = Static<typeof AlertSubject>;

interface SourceRow {
  id: string;
  list_id: string;
  list_name: string;
  name: string | null;
  status: 'pending' | 'active' | 'failed';
  error: string | null;
  notify: string[];
  count: number;
  rejected: number | null;
}

const QUERIES = {
  batch: `SELECT b.id, b.list_id, l.name AS list_name, b.name, b.status, b.error, b.notify,
                 b.generated AS count, NULL::int AS rejected
            FROM batches b JOIN lists l ON l.id = b.list_id WHERE b.id = $1`,
  import: `SELECT i.id, i.list_id, l.name AS list_name, i.name, i.status, i.error, i.notify,
                  i.accepted AS count, i.rejected
             FROM imports i JOIN lists l ON l.id = i.list_id WHERE i.id = $1`,
};

/**
 * Queues the alerts for a batch or import that just finished or failed: one job, and one
 * message, per address, so that no recipient sees the others and a failing address delays
 * or repeats no one else's mail.
 */
export async function queueAlert(db: Queryable, subject: AlertSubject, notify: string[]): Promise<void> {
  for (const to of notify) await sendAlertJob.enqueue(db, { kind: subject.kind, id: subject.id, to });
}

/** Sends the alerts of one subject; a mail that fails is retried with its job. */
export const sendAlertJob = defineJob('send_alert', AlertSubject, async (subject, { pool, config, mailer }) => {
  for (const mail of await composeAlerts(pool, subject, config.publicUrl)) await mailer.send(mail);
});

declare global {
  namespace GraphileWorker {
    interface Tasks {
      [sendAlertJob.name]: PayloadOf<typeof sendAlertJob>;
    }
  }
}

/** The alerts for a finished batch or import, one per recipient, or none when there is nothing to send. */
async function composeAlerts(db: Queryable, subject: AlertSubject, publicUrl: string): Promise<Mail[]> {
  const { rows } = await db.query<SourceRow>(QUERIES[subject.kind], [subject.id]);
  const source = rows[0];
  if (!source || source.status === 'pending' || source.notify.length === 0) return [];
  const recipients = subject.to ? [subject.to] : source.notify;
  const what = `${subject.kind === 'batch' ? 'Batch' : 'Import'} ${source.name ? `"${source.name}"` : `#${source.id}`}`;
  // An import with rejected rows links to them, open in the list's page.
  const rejected = subject.kind === 'import' && (source.rejected ?? 0) > 0;
  const link = `${publicUrl}/lists/${source.list_id}${rejected ? `?rejected=${source.id}` : ''}`;
  const ok = source.status === 'active';
  const count = source.count.toLocaleString('en-US');
  const outcome = ok
    ? subject.kind === 'batch'
      ? `is ready: ${count} codes were generated.`
      : `is done: ${count} codes accepted, ${(source.rejected ?? 0).toLocaleString('en-US')} rejected.`
    : `failed: ${source.error ?? 'unknown error'}.`;
  return recipients.map((to) => ({
    to,
    subject: `${what} for "${source.list_name}" ${ok ? (subject.kind === 'batch' ? 'is ready' : 'is done') : 'failed'}`,
    text: [
      `${what} of the promo code list "${source.list_name}" ${outcome}`,
      '',
      rejected ? `See the rejected rows in the dashboard: ${link}` : `Open it in the dashboard: ${link}`,
      '',
      'For security, codes are never sent by email; export them from the dashboard.',
    ].join('\n'),
  }));
}
