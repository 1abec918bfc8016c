import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticateKey, ensureBootstrapAdminKey, hashKey } from '../../src/auth/api-keys.service';
import { useTestApp } from '../support/context';

const t = useTestApp();

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function createKey(name: string, role: string) {
  const res = await t.call('admin', { method: 'POST', url: '/v1/api-keys', payload: { name, role } });
  expect(res.statusCode).toBe(201);
  return res.data as { id: string; key: string; role: string; name: string; prefix: string };
}

describe('API keys', () => {
  it('shows the secret once, on creation, and never again', async () => {
    const created = await createKey('POS middleware', 'client');
    expect(created).toMatchObject({ id: expect.any(String), name: 'POS middleware', role: 'client', revoked_at: null });
    expect(created.key).toMatch(/^pk_[\w-]{40,}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.prefix.length).toBeLessThan(created.key.length / 2);

    const list = await t.call('admin', { method: 'GET', url: '/v1/api-keys?limit=1000' });
    expect(list.statusCode).toBe(200);
    const listed = list.data.items.find((k: { id: string }) => k.id === created.id);
    expect(listed).toMatchObject({ id: created.id, name: 'POS middleware', role: 'client', prefix: created.prefix });
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('key_hash');
    expect(list.body).not.toContain(created.key);
    expect(list.body).not.toContain(hashKey(created.key));
    for (const secret of Object.values(t.keys)) {
      expect(list.body).not.toContain(secret);
      expect(list.body).not.toContain(hashKey(secret));
    }

    // Stored only as a hash.
    const { rows } = await t.pool.query('SELECT * FROM api_keys WHERE id = $1', [created.id]);
    expect(JSON.stringify(rows[0])).not.toContain(created.key);
  });

  it('gives a new key exactly its role', async () => {
    const agent = await createKey('support desk', 'agent');
    const canRead = await t.app.inject({ method: 'GET', url: '/v1/offers', headers: bearer(agent.key) });
    expect(canRead.statusCode).toBe(200);
    const cannotAdmin = await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(agent.key) });
    expect(cannotAdmin.statusCode).toBe(403);
    expect(cannotAdmin.json().error.code).toBe('forbidden');

    const admin = await createKey('automation', 'admin');
    const canAdmin = await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(admin.key) });
    expect(canAdmin.statusCode).toBe(200);
  });

  it('revokes a key, idempotently, and audits create and revoke', async () => {
    const created = await createKey('to revoke', 'agent');
    expect((await t.app.inject({ method: 'GET', url: '/v1/offers', headers: bearer(created.key) })).statusCode).toBe(
      200,
    );

    const first = await t.call('admin', { method: 'DELETE', url: `/v1/api-keys/${created.id}` });
    expect(first.statusCode).toBe(200);
    expect(first.data).toMatchObject({ id: created.id, revoked_at: expect.any(String) });
    expect(first.body).not.toContain(created.key);

    const refused = await t.app.inject({ method: 'GET', url: '/v1/offers', headers: bearer(created.key) });
    expect(refused.statusCode).toBe(401);

    const again = await t.call('admin', { method: 'DELETE', url: `/v1/api-keys/${created.id}` });
    expect(again.statusCode).toBe(200);
    expect(again.data.revoked_at).toBe(first.data.revoked_at);

    const listed = await t.call('admin', { method: 'GET', url: '/v1/api-keys?limit=1000' });
    expect(listed.data.items.find((k: { id: string }) => k.id === created.id).revoked_at).toBe(first.data.revoked_at);

    const audit = await t.call('admin', {
      method: 'GET',
      url: `/v1/audit?entity_type=api_key&entity_id=${created.id}`,
    });
    expect(audit.statusCode).toBe(200);
    const actions = audit.data.items.map((e: { action: string }) => e.action);
    // Newest first; the second revoke changed nothing and is not recorded.
    expect(actions).toEqual(['api_key.revoke', 'api_key.create']);
    const [revoke, create] = audit.data.items;
    expect(create.after).toMatchObject({ id: created.id, role: 'agent' });
    expect(revoke.before).toMatchObject({ revoked_at: null });
    expect(revoke.after.revoked_at).toEqual(expect.any(String));
    expect(revoke.actor).toMatch(/^api_key:\d+$/);
    expect(revoke.request_id).toEqual(expect.any(String));
    expect(audit.body).not.toContain(created.key);
  });

  it('answers 404 for an unknown key and 400 for a bad id', async () => {
    const missing = await t.call('admin', { method: 'DELETE', url: '/v1/api-keys/987654321' });
    expect(missing.statusCode).toBe(404);
    expect(missing.data.error.code).toBe('api_key_not_found');
    const bad = await t.call('admin', { method: 'DELETE', url: '/v1/api-keys/abc' });
    expect(bad.statusCode).toBe(400);
    expect(bad.data.error.code).toBe('validation_failed');
  });

  it('refuses a bad role, a missing name and unknown fields', async () => {
    for (const payload of [
      { name: 'x', role: 'superuser' },
      { name: 'x', role: 'ADMIN' },
      { name: 'x' },
      { role: 'admin' },
      { name: '', role: 'admin' },
      { name: 'x', role: 'admin', key: 'pk_chosen_by_me_0123456789' },
    ]) {
      const res = await t.call('admin', { method: 'POST', url: '/v1/api-keys', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
      expect(res.data.error.details.fields.length).toBeGreaterThan(0);
    }
  });

  it('pages through keys with a cursor', async () => {
    for (let i = 0; i < 3; i++) await createKey(`paged ${i}`, 'client');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call('admin', {
        method: 'GET',
        url: `/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      });
      expect(res.statusCode).toBe(200);
      expect(res.data.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.data.items.map((k: { id: string }) => k.id));
      cursor = res.data.next_cursor;
    } while (cursor);
    const { rows } = await t.pool.query<{ id: string }>('SELECT id FROM api_keys ORDER BY id');
    expect(seen).toEqual(rows.map((r) => r.id));
  });
});

describe('ADMIN_API_KEY bootstrap', () => {
  const secret = 'bootstrap-secret-0123456789abcdef';

  it('ensures an admin key with exactly that secret, and restores it after a revoke', async () => {
    const before = await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(secret) });
    expect(before.statusCode).toBe(401);

    await ensureBootstrapAdminKey(t.pool, secret);
    await ensureBootstrapAdminKey(t.pool, secret); // a restart: no second key
    const ok = await t.app.inject({ method: 'GET', url: '/v1/api-keys?limit=1000', headers: bearer(secret) });
    expect(ok.statusCode).toBe(200);
    const bootstrap = ok.json().items.filter((k: { name: string }) => k.name === 'ADMIN_API_KEY');
    expect(bootstrap).toHaveLength(1);
    expect(bootstrap[0].role).toBe('admin');
    expect(ok.body).not.toContain(secret);

    const revoke = await t.call('admin', { method: 'DELETE', url: `/v1/api-keys/${bootstrap[0].id}` });
    expect(revoke.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(secret) })).statusCode).toBe(401);

    await ensureBootstrapAdminKey(t.pool, secret);
    expect((await t.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(secret) })).statusCode).toBe(200);
  });
});

describe('ADMIN_API_KEY at rest', () => {
  // Every 4 characters hold a '~', '!' or '.', which base64url (the scrypt string's salt and
  // hash) never has: a 4-character piece found in the row can only have come from the secret.
  const chosen = 'ops~key!cho.sen~by!the.adm~in';
  const pieces = (text: string) => Array.from({ length: text.length - 3 }, (_, i) => text.slice(i, i + 4));
  const rowText = async (id: string) =>
    (await t.pool.query<{ text: string }>('SELECT to_jsonb(k)::text AS text FROM api_keys k WHERE id = $1', [id]))
      .rows[0]!.text;
  const bootstrapRows = async () =>
    (
      await t.pool.query<{ id: string; key_prefix: string; revoked_at: Date | null }>(
        "SELECT id, key_prefix, revoked_at FROM api_keys WHERE name = 'ADMIN_API_KEY' ORDER BY id",
      )
    ).rows;

  it('stores no piece of the chosen secret, in any column, and still authenticates with it', async () => {
    expect(pieces(chosen).every((piece) => /[~!.]/.test(piece))).toBe(true);
    await ensureBootstrapAdminKey(t.pool, chosen);
    const ok = await t.app.inject({ method: 'GET', url: '/v1/api-keys?limit=1000', headers: bearer(chosen) });
    expect(ok.statusCode).toBe(200);
    const [key] = ok
      .json()
      .items.filter((k: { name: string; revoked_at: string | null }) => k.name === 'ADMIN_API_KEY' && !k.revoked_at);
    expect(key.prefix).toBe('bootstrap');
    const stored = await rowText(key.id);
    expect(stored).toMatch(/"key_hash": "scrypt\$/);
    expect(pieces(chosen).filter((piece) => stored.includes(piece))).toEqual([]);
    expect(pieces(chosen).filter((piece) => ok.body.includes(piece))).toEqual([]);
  });

  it('refuses a wrong secret, and one that differs only at the end', async () => {
    await ensureBootstrapAdminKey(t.pool, chosen);
    for (const wrong of [`${chosen}x`, chosen.slice(0, -1), chosen.toUpperCase(), 'ops~key!cho.sen~by!the.adm~im']) {
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(wrong) })).statusCode,
        wrong,
      ).toBe(401);
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(chosen) })).statusCode).toBe(200);
  });

  it('keeps one row across restarts, and follows a revoke made through the API at once', async () => {
    await ensureBootstrapAdminKey(t.pool, chosen);
    await ensureBootstrapAdminKey(t.pool, chosen);
    const before = (await bootstrapRows()).filter((r) => !r.revoked_at);
    // Two processes starting at once.
    await Promise.all([ensureBootstrapAdminKey(t.pool, chosen), ensureBootstrapAdminKey(t.pool, chosen)]);
    expect((await bootstrapRows()).filter((r) => !r.revoked_at)).toEqual(before);

    const { id } = (await authenticateKey(t.pool, chosen))!;
    expect(before.map((r) => r.id)).toContain(id);
    expect((await t.call('admin', { method: 'DELETE', url: `/v1/api-keys/${id}` })).statusCode).toBe(200);
    expect(await authenticateKey(t.pool, chosen)).toBeNull();
    await ensureBootstrapAdminKey(t.pool, chosen);
    expect(await authenticateKey(t.pool, chosen)).toMatchObject({ id, role: 'admin' });
    expect((await bootstrapRows()).filter((r) => !r.revoked_at)).toEqual(before);
  });

  it('upgrades a key stored by an older version (SHA-256, start of the secret in clear) in place', async () => {
    const old = 'legacy.chosen~secret!2016';
    const { rows } = await t.pool.query<{ id: string }>(
      `INSERT INTO api_keys (name, role, key_hash, key_prefix, created_by)
       VALUES ('ADMIN_API_KEY', 'agent', $1, $2, 'system') RETURNING id`,
      [hashKey(old), old.slice(0, 9)],
    );
    const id = rows[0]!.id;
    // Unchanged until the next start, as before.
    expect(await authenticateKey(t.pool, old)).toMatchObject({ id, role: 'agent' });

    await ensureBootstrapAdminKey(t.pool, old);
    const stored = await rowText(id);
    expect(stored).not.toContain(old.slice(0, 9));
    expect(stored).not.toContain(hashKey(old));
    expect(stored).toContain('"key_prefix": "bootstrap"');
    expect((await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(old) })).statusCode).toBe(200);
    expect(
      (
        await t.pool.query(
          "SELECT count(*)::int AS n FROM api_keys WHERE created_by = 'system' AND key_prefix <> 'bootstrap'",
        )
      ).rows[0].n,
    ).toBe(0);
  });

  it('takes a key of the generated shape as ADMIN_API_KEY: found by SHA-256, shown without its start', async () => {
    const generated = `pk_${randomBytes(32).toString('base64url')}`;
    await ensureBootstrapAdminKey(t.pool, generated);
    const me = (await authenticateKey(t.pool, generated))!;
    expect(me).toMatchObject({ name: 'ADMIN_API_KEY', role: 'admin' });
    const stored = await rowText(me.id);
    expect(stored).toContain('"key_prefix": "bootstrap"');
    expect(stored).not.toContain(generated.slice(0, 9));
    // An existing key given as ADMIN_API_KEY becomes an admin key.
    const promoted = (await createKey('promoted', 'client')).key;
    await ensureBootstrapAdminKey(t.pool, promoted);
    expect((await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(promoted) })).statusCode).toBe(
      200,
    );
  });
});
