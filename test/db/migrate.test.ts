// Several processes starting at once on one fresh database: each runs the start-up migration
// sequence (schema, then job queue) and all of them must come up, with every migration
// applied exactly once. A database migrated by the last release's files upgrades to the very
// functions a fresh one has; an applied migration whose file changed stops the start.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/db/pool';
import { MigrationChangedError, loadMigrations, loadRepeatables, migrate } from '../../src/db/migrate';
import { migrateQueue } from '../../src/jobs/queue';
import { COUNTER_SLOTS } from '../../src/lists/counters';
import { withDatabase } from '../support/global-setup';

const created: string[] = [];

async function emptyDatabase(): Promise<string> {
  const name = `promo_migrate_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('serverUrl') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  created.push(name);
  return withDatabase(inject('serverUrl'), name);
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: inject('serverUrl') });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

describe('migrations', () => {
  it('apply exactly once when three processes start on a fresh database at the same time', async () => {
    const url = await emptyDatabase();
    const pools = [1, 2, 3].map(() => createPool(url, 4));
    try {
      const results = await Promise.allSettled(
        pools.map(async (pool) => {
          const applied = await migrate(pool);
          await migrateQueue(pool);
          return applied;
        }),
      );
      const failures = results
        .filter((r) => r.status === 'rejected')
        .map((r) => String((r as PromiseRejectedResult).reason));
      expect(failures).toEqual([]);

      const migrations = await loadMigrations();
      const repeatables = await loadRepeatables();
      expect(migrations.length).toBeGreaterThan(0);
      expect(repeatables.map((r) => r.name)).toEqual([
        'claims/claims.functions.sql',
        'customers/customers.functions.sql',
        'events/events.functions.sql',
        'http/timestamps.functions.sql',
        'lists/counters.functions.sql',
      ]);
      const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      // Between them the three calls applied each migration and each repeatable file once; the
      // lock made the others wait.
      expect(applied.sort()).toEqual([...migrations, ...repeatables].map((m) => m.name).sort());

      const { rows } = await pools[0]!.query<{ version: number; n: string }>(
        'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      expect(rows.every((r) => r.n === '1')).toBe(true);

      // The job queue's schema is complete and usable.
      const queue = await pools[0]!.query<{ n: string }>('SELECT count(*) AS n FROM graphile_worker.migrations');
      expect(Number(queue.rows[0]!.n)).toBeGreaterThan(10);
      await pools[0]!.query(`SELECT graphile_worker.add_job('probe', '{}'::json)`);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('is a no-op on an up-to-date database', async () => {
    const url = await emptyDatabase();
    const pool = createPool(url, 2);
    try {
      expect((await migrate(pool)).length).toBeGreaterThan(0);
      expect(await migrate(pool)).toEqual([]);
      await migrateQueue(pool);
      await migrateQueue(pool);
    } finally {
      await pool.end();
    }
  });
});

/** The last release's migration files: the commit before functions moved out of migrations. */
const LAST_RELEASE = 'a59ee27';
const git = (...args: string[]) =>
  execFileSync('git', args, { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });

/** Every function of the public schema with its full definition. */
async function functions(pool: pg.Pool): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ signature: string; definition: string }>(
    `SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS definition
       FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.signature, r.definition]));
}

describe('upgrades', () => {
  it('take a database migrated by the last release to the functions a fresh database has', async () => {
    const old = createPool(await emptyDatabase(), 2);
    const fresh = createPool(await emptyDatabase(), 2);
    try {
      // The last release, as its migrate.ts ran it: each file once, in order, recorded by number.
      await old.query(
        `CREATE TABLE schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const files = git('ls-tree', '--name-only', `${LAST_RELEASE}:src/db/migrations`)
        .split('\n')
        .filter((f) => f.endsWith('.sql'))
        .sort();
      expect(files.length).toBe(7);
      for (const file of files) {
        await old.query(git('show', `${LAST_RELEASE}:src/db/migrations/${file}`));
        await old.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          Number(file.split('_')[0]),
          file.replace(/\.sql$/, ''),
        ]);
      }
      const before = await functions(old);
      expect(Object.keys(before)).toContain('claim_code(text,text,text,integer,interval,interval,integer)');

      // The migrations added since, then the functions.
      const added = (await loadMigrations()).filter((m) => !files.includes(`${m.name}.sql`)).map((m) => m.name);
      expect(await migrate(old)).toEqual([
        ...added,
        'claims/claims.functions.sql',
        'customers/customers.functions.sql',
        'events/events.functions.sql',
        'http/timestamps.functions.sql',
        'lists/counters.functions.sql',
      ]);
      await migrate(fresh);
      const upgraded = await functions(old);
      expect(upgraded).toEqual(await functions(fresh));
      expect(Object.keys(upgraded).sort()).toEqual([
        'api_time(timestamp with time zone)',
        'claim_code(text,text,text,integer,interval,interval,integer)',
        'claim_codes(text,text[],text[],integer,interval,interval,integer)',
        'create_list_counters(bigint,bigint)',
        'customer_claims_in_periods(text,timestamp with time zone)',
        'customer_profile(text)',
        'customer_unknown_codes(text,interval,timestamp with time zone,timestamp with time zone)',
        'events_after(xid8,bigint,integer)',
        'give_back_claim_unit(bigint,integer)',
        'list_claim_count(bigint)',
        'list_counter_slots()',
        'record_event(text,jsonb)',
        'spread_list_cap(bigint)',
        'take_claim_unit(bigint,integer)',
      ]);
      // The old migrations got their checksums on that start; a second start does nothing.
      const { rows } = await old.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM schema_migrations WHERE checksum IS NULL',
      );
      expect(rows[0]!.n).toBe(0);
      expect(await migrate(old)).toEqual([]);
    } finally {
      await Promise.all([old.end(), fresh.end()]);
    }
  });

  it('re-apply a repeatable file when it changed, and stop at an applied migration that changed', async () => {
    const pool = createPool(await emptyDatabase(), 2);
    try {
      await migrate(pool);
      // Another checksum stored: as if the file had changed since it was applied.
      await pool.query(`UPDATE schema_repeatables SET checksum = 'older' WHERE name = 'lists/counters.functions.sql'`);
      // The slot count is said twice, once in each language of the counters module: they agree.
      expect((await pool.query('SELECT list_counter_slots() AS n')).rows[0].n).toBe(COUNTER_SLOTS);
      await pool.query('DROP FUNCTION spread_list_cap(bigint)');
      expect(await migrate(pool)).toEqual(['lists/counters.functions.sql']);
      expect(Object.keys(await functions(pool))).toContain('spread_list_cap(bigint)');

      await pool.query(`UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3`);
      const refused = await migrate(pool).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MigrationChangedError);
      expect(String(refused)).toMatch(/migration 003_claims differs from the one applied to this database/);
    } finally {
      await pool.end();
    }
  });
});
