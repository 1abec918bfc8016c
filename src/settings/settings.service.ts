// Service-wide settings. Claim limits: how many claims one customer may make per rolling
// week (7 days), month and year; null means no limit for that period. Reversed claims do
// not count. The claim function reads the row on every claim, so a change applies at once
// on every node.
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';

import type { ClaimLimits } from './settings.schema';

const NONE: ClaimLimits = { per_week: null, per_month: null, per_year: null };

export async function getClaimLimits(db: Queryable): Promise<ClaimLimits> {
  const { rows } = await db.query<{ value: Partial<ClaimLimits> }>(
    "SELECT value FROM settings WHERE key = 'claim_limits'",
  );
  return { ...NONE, ...rows[0]?.value };
}

/** Replaces the limits; a period left out has no limit. With none, the row goes away. */
export async function setClaimLimits(tx: Tx, ctx: AuditContext, input: Partial<ClaimLimits>): Promise<ClaimLimits> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('settings:claim_limits'))");
  const before = await getClaimLimits(tx);
  const after: ClaimLimits = { ...NONE, ...input };
  if (Object.values(after).every((v) => v === null)) {
    await tx.query("DELETE FROM settings WHERE key = 'claim_limits'");
  } else {
    await tx.query(
      `INSERT INTO settings (key, value) VALUES ('claim_limits', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [JSON.stringify(after)],
    );
  }
  await recordAudit(tx, ctx, {
    action: 'settings.claim_limits',
    entityType: 'settings',
    entityId: 'claim_limits',
    before,
    after,
  });
  return after;
}
