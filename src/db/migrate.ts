// The database schema, in two kinds of files:
// - numbered migrations (./migrations/NNN_name.sql): tables, indexes and data changes, each
//   applied once, in order, in its own transaction. Each applied migration's SHA-256 is kept;
//   a start against a database whose applied migration differs from its file fails, naming it,
//   so that a file edited after it shipped cannot go unnoticed.
// - repeatable SQL (src/<feature>/*.functions.sql): the functions that hold rules (the claim
//   function, the cap spreading), each file the one live definition, with CREATE OR REPLACE.
//   They are applied after the migrations, and again whenever a file's checksum changes. A
//   migration must not call them (it would run before them on a fresh database).
// An advisory lock makes concurrent starts safe: the second process waits for the first, then
// finds nothing left to do.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { withClient } from './pool';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MIGRATIONS_DIR = path.join(HERE, 'migrations');
const SOURCE_DIR = path.join(HERE, '..');
const LOCK_KEY = 7_314_159; // arbitrary, constant: identifies "promo-codes migrations"

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface RepeatableSql {
  /** Its path under src/, e.g. `claims/claims.functions.sql`. */
  name: string;
  sql: string;
  checksum: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(file.split('_')[0]),
      name: file.replace(/\.sql$/, ''),
      sql,
      checksum: sha256(sql),
    });
  }
  const versions = new Set(migrations.map((m) => m.version));
  if (versions.size !== migrations.length) throw new Error('two migrations share a number');
  return migrations;
}

/** Every `*.functions.sql` under src/, in path order. */
export async function loadRepeatables(dir = SOURCE_DIR): Promise<RepeatableSql[]> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.functions.sql')).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(path.join(dir, file), 'utf8');
      return { name: file.split(path.sep).join('/'), sql, checksum: sha256(sql) };
    }),
  );
}

export class MigrationChangedError extends Error {}

async function inTransaction(client: pg.PoolClient, what: string, work: () => Promise<unknown>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw new Error(`${what} failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Applies pending migrations, then the repeatable SQL that is new or changed; returns the
 * names applied by this call.
 */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const migrations = await loadMigrations();
  const repeatables = await loadRepeatables();
  return withClient(pool, async (client) => {
    const applied: string[] = [];
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      // Databases migrated before checksums were kept get theirs from the files on this start.
      await client.query('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text');
      await client.query(`CREATE TABLE IF NOT EXISTS schema_repeatables (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number; name: string; checksum: string | null }>(
        'SELECT version, name, checksum FROM schema_migrations',
      );
      const done = new Map(rows.map((r) => [r.version, r]));
      for (const migration of migrations) {
        const before = done.get(migration.version);
        if (before?.checksum && before.checksum !== migration.checksum) {
          throw new MigrationChangedError(
            `migration ${migration.name} differs from the one applied to this database ` +
              `(${before.name}, sha256 ${before.checksum.slice(0, 12)}…, file ${migration.checksum.slice(0, 12)}…): ` +
              'a migration must not change once applied; restore the file and add a new migration',
          );
        }
        if (before) {
          if (!before.checksum)
            await client.query('UPDATE schema_migrations SET checksum = $2 WHERE version = $1', [
              migration.version,
              migration.checksum,
            ]);
          continue;
        }
        await inTransaction(client, `migration ${migration.name}`, async () => {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
        });
        applied.push(migration.name);
      }
      // A file that was renamed or removed is forgotten (what it created stays until dropped).
      await client.query('DELETE FROM schema_repeatables WHERE NOT (name = ANY($1))', [repeatables.map((r) => r.name)]);
      const current = await client.query<{ name: string; checksum: string }>(
        'SELECT name, checksum FROM schema_repeatables',
      );
      const known = new Map(current.rows.map((r) => [r.name, r.checksum]));
      for (const repeatable of repeatables) {
        if (known.get(repeatable.name) === repeatable.checksum) continue;
        await inTransaction(client, repeatable.name, async () => {
          // A file's functions may call those of a file applied after it (path order): their
          // bodies are checked when they first run, as pg_dump's restores do.
          await client.query('SET LOCAL check_function_bodies = off');
          await client.query(repeatable.sql);
          await client.query(
            `INSERT INTO schema_repeatables (name, checksum) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()`,
            [repeatable.name, repeatable.checksum],
          );
        });
        applied.push(repeatable.name);
      }
    } finally {
      // A lost connection ends the session and its lock with it.
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    }
    return applied;
  });
}
