// Several processes starting at once on one fresh database: each runs the start-up migration
// sequence (schema, then job queue) and all of them must come up, with every migration
// applied exactly once.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/db/pool';
import { loadMigrations, migrate } from '../../src/db/migrate';
import { migrateQueue } from '../../src/jobs/queue';
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
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(failures).toEqual([]);

      const migrations = await loadMigrations();
      expect(migrations.length).toBeGreaterThan(0);
      const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      // Between them the three calls applied each migration once; the lock made the others wait.
      expect(applied.sort()).toEqual(migrations.map((m) => m.name).sort());

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
