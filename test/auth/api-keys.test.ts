import { describe, expect, it } from 'vitest';
import { ensureBootstrapAdminKey, hashKey } from '../../src/auth/api-keys.service';
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
    expect((await t.app.inject({ method: 'GET', url: '/v1/offers', headers: bearer(created.key) })).statusCode).toBe(200);

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

    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=api_key&entity_id=${created.id}` });
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
      expect(res.data.error.details.length).toBeGreaterThan(0);
    }
  });

  it('pages through keys with a cursor', async () => {
    for (let i = 0; i < 3; i++) await createKey(`paged ${i}`, 'client');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call('admin', { method: 'GET', url: `/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}` });
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
