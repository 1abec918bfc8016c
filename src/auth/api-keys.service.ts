// API keys: a random secret shown once, stored only as its SHA-256 hash. Secrets carry 256
// bits of randomness, so a fast hash is enough: there is nothing to brute-force.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import * as sql from './api-keys.sql';
import type { Principal, UserRole } from './roles';

const SECRET_PREFIX = 'pk_';

export const hashKey = (secret: string) => createHash('sha256').update(secret).digest('hex');
const displayPrefix = (secret: string) => secret.slice(0, SECRET_PREFIX.length + 6);

export function presentKey(row: sql.ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.key_prefix,
    created_by: row.created_by,
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

export async function createApiKey(tx: Tx, ctx: AuditContext | null, input: { name: string; role: UserRole }) {
  const secret = SECRET_PREFIX + randomBytes(32).toString('base64url');
  const row = await sql.insertApiKey(tx, {
    name: input.name,
    role: input.role,
    hash: hashKey(secret),
    prefix: displayPrefix(secret),
    createdBy: ctx?.actor ?? null,
  });
  if (ctx) await recordAudit(tx, ctx, { action: 'api_key.create', entityType: 'api_key', entityId: row.id, after: presentKey(row) });
  return { ...presentKey(row), key: secret };
}

/** `ADMIN_API_KEY`: makes sure an admin key with exactly this secret exists and is not revoked. */
export async function ensureBootstrapAdminKey(db: Queryable, secret: string): Promise<void> {
  await sql.upsertApiKey(db, { name: 'ADMIN_API_KEY', role: 'admin', hash: hashKey(secret), prefix: displayPrefix(secret) });
}

// Known keys are remembered for a few seconds, so that a busy client's requests do not each
// cost a query. Revoking a key forgets it here at once; other API nodes stop accepting it
// within KEY_CACHE_MS.
const KEY_CACHE_MS = 5_000;
const KEY_CACHE_MAX = 10_000;
const keyCache = new Map<string, { principal: Principal; until: number }>();

export async function authenticateKey(db: Queryable, secret: string): Promise<Principal | null> {
  const hash = hashKey(secret);
  const cached = keyCache.get(hash);
  if (cached && cached.until > Date.now()) return cached.principal;
  const row = await sql.findActiveKeyByHash(db, hash);
  if (!row) {
    keyCache.delete(hash);
    return null;
  }
  const principal: Principal = { kind: 'api_key', id: row.id, name: row.name, role: row.role };
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(hash, { principal, until: Date.now() + KEY_CACHE_MS });
  return principal;
}

function forgetKey(id: string) {
  for (const [hash, entry] of keyCache) if (entry.principal.id === id) keyCache.delete(hash);
}

export async function listApiKeys(db: Queryable, query: { limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, ['id'])?.[0] as string | undefined;
  const rows = await sql.listApiKeys(db, after ?? null, query.limit + 1);
  const result = page(rows, query.limit, (row) => [row.id]);
  return { items: result.items.map(presentKey), next_cursor: result.next_cursor };
}

/** Revoking is idempotent: a revoked key stays revoked and keeps its first revocation time. */
export async function revokeApiKey(tx: Tx, ctx: AuditContext, id: string) {
  const before = await sql.findApiKey(tx, id);
  if (!before) throw notFound('api_key', id);
  if (before.revoked_at) return presentKey(before);
  const after = await sql.revokeApiKey(tx, id);
  forgetKey(id);
  await recordAudit(tx, ctx, {
    action: 'api_key.revoke',
    entityType: 'api_key',
    entityId: id,
    before: presentKey(before),
    after: presentKey(after),
  });
  return presentKey(after);
}
