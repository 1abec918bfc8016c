// API keys: a random secret shown once, stored only as its SHA-256 hash. Secrets carry 256
// bits of randomness, so a fast hash is enough: there is nothing to brute-force. The one
// secret a person chooses, ADMIN_API_KEY, may have far less, so it is stored as a salted
// scrypt hash and nothing of it in clear (docs/architecture.md, "API key secrets").
import { createHash, randomBytes } from 'node:crypto';
import { transaction, type Pool, type Queryable, type Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { DomainError, notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import { hashPassword, verifyPassword } from '../operators/passwords';
import * as sql from './api-keys.sql';
import type { Principal, UserRole } from './roles';

const SECRET_PREFIX = 'pk_';
/** What every generated secret looks like: the prefix and 32 random bytes in base64url. */
const GENERATED_SHAPE = /^pk_[\w-]{43}$/;
/** The displayed prefix of the ADMIN_API_KEY key: a label, since its secret's start is not stored. */
const BOOTSTRAP_PREFIX = 'bootstrap';

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
  if (ctx)
    await recordAudit(tx, ctx, {
      action: 'api_key.create',
      entityType: 'api_key',
      entityId: row.id,
      after: presentKey(row),
    });
  return { ...presentKey(row), key: secret };
}

/**
 * `ADMIN_API_KEY`, at every start: makes sure an admin key with exactly this secret exists and
 * is not revoked. A key stored by an older version (SHA-256, the secret's first characters as
 * its prefix) keeps its row and id and gets the scrypt hash and the label instead.
 */
export async function ensureBootstrapAdminKey(pool: Pool, secret: string): Promise<void> {
  const id = await transaction(pool, async (tx) => {
    // Processes starting together would each add a row: salted hashes never collide.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('api_keys.bootstrap'))");
    // Earlier ADMIN_API_KEY rows, kept as they were, stop showing the start of their secret.
    await sql.relabelBootstrapKeys(tx, BOOTSTRAP_PREFIX);
    // A generated key given as ADMIN_API_KEY is as random as any, and authenticateKey never
    // tries scrypt on that shape: it is stored and found by SHA-256 like the others.
    if (GENERATED_SHAPE.test(secret)) {
      return sql.upsertApiKey(tx, {
        name: 'ADMIN_API_KEY',
        role: 'admin',
        hash: hashKey(secret),
        prefix: BOOTSTRAP_PREFIX,
      });
    }
    for (const row of await sql.findChosenKeys(tx, false)) {
      if (await verifyPassword(secret, row.key_hash)) {
        await sql.restoreKey(tx, row.id, 'admin');
        return row.id;
      }
    }
    const stored = await hashPassword(secret);
    return (
      (await sql.rehashKey(tx, hashKey(secret), stored)) ??
      (
        await sql.insertApiKey(tx, {
          name: 'ADMIN_API_KEY',
          role: 'admin',
          hash: stored,
          prefix: BOOTSTRAP_PREFIX,
          createdBy: 'system',
        })
      ).id
    );
  });
  // This process may remember the key with the role or revocation it had before.
  forgetKey(id);
}

// Known keys are remembered for a few seconds, so that a busy client's requests do not each
// cost a query. Revoking a key forgets it here at once; other API nodes stop accepting it
// within KEY_CACHE_MS.
const KEY_CACHE_MS = 5_000;
const KEY_CACHE_MAX = 10_000;
const keyCache = new Map<string, { principal: Principal; until: number }>();

// A chosen secret once verified, by its SHA-256, to the scrypt hash it matched: later
// requests find the row by that stored hash (the unique index) without running scrypt again.
const VERIFIED_MAX = 100;
const verifiedChosen = new Map<string, string>();

export async function authenticateKey(db: Queryable, secret: string): Promise<Principal | null> {
  const hash = hashKey(secret);
  const cached = keyCache.get(hash);
  if (cached && cached.until > Date.now()) return cached.principal;
  let row = await sql.findActiveKeyByHash(db, verifiedChosen.get(hash) ?? hash);
  if (!row && !GENERATED_SHAPE.test(secret)) row = await verifyChosenKey(db, secret, hash);
  if (!row) {
    keyCache.delete(hash);
    return null;
  }
  const principal: Principal = { kind: 'api_key', id: row.id, name: row.name, role: row.role };
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(hash, { principal, until: Date.now() + KEY_CACHE_MS });
  return principal;
}

// One scrypt at a time per process, with a short line behind it: any unknown bearer token not
// shaped like a generated key asks for one (≈ 32 MiB and tens of ms), and a flood of them
// must not take the memory or the thread pool. Past the line the answer is 429 with
// Retry-After, not 401: the secret may be right, so a client must not give up on it.
const LINE_MAX = 8;
let line: Promise<unknown> = Promise.resolve();
let waiting = 0;

async function verifyChosenKey(db: Queryable, secret: string, hash: string): Promise<sql.ApiKeyRow | undefined> {
  if (waiting >= LINE_MAX) {
    throw new DomainError('rate_limited', 'too many keys being checked at once; retry in a moment', undefined, {
      'retry-after': '1',
    });
  }
  waiting++;
  const rows = await sql.findChosenKeys(db, true).catch((error: unknown) => {
    waiting--;
    throw error;
  });
  if (!rows.length) {
    waiting--;
    return undefined;
  }
  const turn = line.then(async () => {
    for (const row of rows) if (await verifyPassword(secret, row.key_hash)) return row;
    return undefined;
  });
  line = turn.catch(() => undefined);
  try {
    const match = await turn;
    if (match) {
      if (verifiedChosen.size >= VERIFIED_MAX) verifiedChosen.clear();
      verifiedChosen.set(hash, match.key_hash);
    }
    return match;
  } finally {
    waiting--;
  }
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
