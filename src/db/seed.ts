// A small demo catalog for a brand-new database, so the dashboard and API have something to
// point outcomes at. Runs only when the catalog is empty.
import type { Pool } from './pool';

export async function seedDemoCatalog(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ empty: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM point_accounts) AND NOT EXISTS (SELECT 1 FROM point_sources)
        AND NOT EXISTS (SELECT 1 FROM offers) AS empty`,
  );
  if (!rows[0]?.empty) return false;
  await pool.query(`
    INSERT INTO point_accounts (key, name) VALUES ('spendable', 'Spendable points'), ('status', 'Status points')
      ON CONFLICT DO NOTHING;
    INSERT INTO point_sources (key, name) VALUES ('promo_code', 'Promo code'), ('goodwill', 'Customer service goodwill')
      ON CONFLICT DO NOTHING;
    INSERT INTO offers (id, name, description) VALUES
      ('free-coffee', 'Free coffee', 'One regular coffee of any kind'),
      ('ten-percent-off', '10% off', 'Ten percent off the next purchase')
      ON CONFLICT DO NOTHING;`);
  return true;
}
