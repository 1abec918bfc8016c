// Managing dashboard operators: POST/GET/PATCH /v1/operators.
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { activeOperator, createOperator, signIn, uniqueEmail, withCookie } from './operator-helpers';

const t = useTestApp();

describe('creating operators', () => {
  it('returns the one-time password once, stores only a scrypt hash, and never lists it', async () => {
    const email = uniqueEmail('Casey');
    const res = await t.call('admin', {
      method: 'POST',
      url: '/v1/operators',
      payload: { email, name: 'Casey', role: 'agent' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.data).toEqual({
      id: expect.stringMatching(/^\d+$/),
      email,
      name: 'Casey',
      role: 'agent',
      must_change_password: true,
      disabled_at: null,
      created_at: expect.any(String),
      last_login_at: null,
      password: expect.any(String),
    });
    const { password, id } = res.data;
    expect(password.length).toBeGreaterThanOrEqual(12);

    const { rows } = await t.pool.query('SELECT * FROM operators WHERE id = $1', [id]);
    expect(rows[0].password_hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
    expect(JSON.stringify(rows[0])).not.toContain(password);
    expect(rows[0].created_by).toBe(t.actors.admin);

    const list = await t.call('admin', { method: 'GET', url: '/v1/operators?limit=1000' });
    expect(list.statusCode).toBe(200);
    const listed = list.data.items.find((o: { id: string }) => o.id === id);
    expect(listed).toEqual({ ...res.data, password: undefined });
    expect(listed).not.toHaveProperty('password');
    expect(list.body).not.toContain(password);
    expect(list.body).not.toContain(rows[0].password_hash);
    expect(list.body).not.toContain('scrypt');

    // It is the operator's password.
    expect((await signIn(t, email, password)).statusCode).toBe(200);
  });

  it('refuses an email already in use, whatever its case', async () => {
    const email = uniqueEmail('dup');
    await createOperator(t, 'client', email);
    const again = await t.call('admin', {
      method: 'POST',
      url: '/v1/operators',
      payload: { email: email.toUpperCase(), role: 'admin' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.data.error.code).toBe('email_taken');
    expect(again.data).not.toHaveProperty('password');
  });

  it('validates the body strictly', async () => {
    for (const payload of [
      {},
      { email: 'no-at-sign', role: 'agent' },
      { email: 'a@b', role: 'owner' },
      { email: 'a@b' },
      { email: 'a@b', role: 'agent', password: 'chosen-by-me-123' },
      { email: 'a@b', role: 'agent', name: '' },
    ]) {
      const res = await t.call('admin', { method: 'POST', url: '/v1/operators', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    const patch = await t.call('admin', {
      method: 'PATCH',
      url: '/v1/operators/1',
      payload: { reset_password: false },
    });
    expect(patch.statusCode).toBe(400);
    const unknown = await t.call('admin', { method: 'PATCH', url: '/v1/operators/1', payload: { email: 'x@y' } });
    expect(unknown.statusCode).toBe(400);
  });

  it('is for admins only: agent and client keys get 403', async () => {
    for (const role of ['agent', 'client'] as const) {
      for (const [method, url, payload] of [
        ['POST', '/v1/operators', { email: uniqueEmail('x'), role: 'admin' }],
        ['GET', '/v1/operators', undefined],
        ['PATCH', '/v1/operators/1', { name: 'x' }],
      ] as const) {
        const res = await t.call(role, { method, url, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${method} ${url} as ${role}`).toBe(403);
        expect(res.data.error.code).toBe('forbidden');
      }
    }
    const anonymous = await t.call(null, { method: 'GET', url: '/v1/operators' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('pages through operators with a cursor', async () => {
    for (let i = 0; i < 3; i++) await createOperator(t, 'client');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call('admin', {
        method: 'GET',
        url: `/v1/operators?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      });
      expect(res.statusCode).toBe(200);
      expect(res.data.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.data.items.map((o: { id: string }) => o.id));
      cursor = res.data.next_cursor;
    } while (cursor);
    const { rows } = await t.pool.query<{ id: string }>('SELECT id FROM operators ORDER BY id');
    expect(seen).toEqual(rows.map((r) => r.id));
  });
});

describe('changing operators', () => {
  it('renames and changes the role, auditing before and after without secrets', async () => {
    const op = await createOperator(t, 'client');
    const res = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/operators/${op.id}`,
      payload: { name: 'Renamed', role: 'agent' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.data).toMatchObject({ id: op.id, name: 'Renamed', role: 'agent', disabled_at: null });
    expect(res.data).not.toHaveProperty('password');

    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=operator&entity_id=${op.id}` });
    expect(audit.data.items.map((e: { action: string }) => e.action)).toEqual(['operator.update', 'operator.create']);
    expect(audit.data.items[0]).toMatchObject({
      actor: t.actors.admin,
      before: { role: 'client', name: 'Test client' },
      after: { role: 'agent', name: 'Renamed' },
    });
    expect(audit.body).not.toContain(op.password);
    expect(audit.body).not.toContain('scrypt');
  });

  it('answers 404 for an unknown operator', async () => {
    const res = await t.call('admin', { method: 'PATCH', url: '/v1/operators/987654321', payload: { name: 'x' } });
    expect(res.statusCode).toBe(404);
    expect(res.data.error.code).toBe('operator_not_found');
  });

  it('resets a password: a new one-time password, shown once, and their sessions end', async () => {
    const op = await activeOperator(t, 'agent');
    expect((await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(200);

    const reset = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/operators/${op.id}`,
      payload: { reset_password: true },
    });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.data).toMatchObject({ id: op.id, must_change_password: true, password: expect.any(String) });
    const newPassword = reset.data.password as string;

    expect((await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(401);
    expect((await signIn(t, op.email, op.password)).statusCode).toBe(401);
    const again = await signIn(t, op.email, newPassword);
    expect(again.statusCode).toBe(200);
    expect(again.data.operator.must_change_password).toBe(true);

    const list = await t.call('admin', { method: 'GET', url: '/v1/operators?limit=1000' });
    expect(list.body).not.toContain(newPassword);
    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=operator&entity_id=${op.id}` });
    expect(audit.data.items[0].action).toBe('operator.reset_password');
    expect(audit.body).not.toContain(newPassword);
  });

  it('disables an operator: sign-in refused, existing session ends; enabling lets them in again', async () => {
    const op = await activeOperator(t, 'agent');
    const disabled = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/operators/${op.id}`,
      payload: { disabled: true },
    });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.data.disabled_at).toEqual(expect.any(String));

    const old = await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' });
    expect(old.statusCode).toBe(401);
    expect(old.data.error.code).toBe('unauthorized');
    expect((await withCookie(t, op.token, { method: 'GET', url: '/session' })).statusCode).toBe(401);
    const refused = await signIn(t, op.email, op.password);
    expect(refused.statusCode).toBe(401);
    expect(refused.data.error.code).toBe('invalid_credentials');
    expect(refused.token).toBeNull();

    const enabled = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/operators/${op.id}`,
      payload: { disabled: false },
    });
    expect(enabled.data.disabled_at).toBeNull();
    expect((await signIn(t, op.email, op.password)).statusCode).toBe(200);
  });
});

describe('an admin operator', () => {
  it('manages operators through the dashboard, audited as operator:<id>', async () => {
    const admin = await activeOperator(t, 'admin');
    const created = await withCookie(t, admin.token, {
      method: 'POST',
      url: '/v1/operators',
      payload: { email: uniqueEmail('by-op'), role: 'client' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const renamed = await withCookie(t, admin.token, {
      method: 'PATCH',
      url: `/v1/operators/${created.data.id}`,
      payload: { name: 'Named by an operator' },
    });
    expect(renamed.statusCode).toBe(200);

    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?actor=${admin.actor}` });
    expect(audit.statusCode).toBe(200);
    expect(audit.data.items.map((e: { action: string; entity_id: string }) => [e.action, e.entity_id])).toEqual([
      ['operator.update', created.data.id],
      ['operator.create', created.data.id],
      ['operator.change_password', admin.id], // their own first password change
    ]);
    const { rows } = await t.pool.query('SELECT created_by FROM operators WHERE id = $1', [created.data.id]);
    expect(rows[0].created_by).toBe(admin.actor);
  });

  it('cannot disable or demote themselves, but can rename themselves', async () => {
    const admin = await activeOperator(t, 'admin');
    for (const payload of [{ disabled: true }, { role: 'agent' }, { role: 'client', name: 'x' }]) {
      const res = await withCookie(t, admin.token, { method: 'PATCH', url: `/v1/operators/${admin.id}`, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(409);
      expect(res.data.error.code).toBe('cannot_change_own_access');
    }
    const { rows } = await t.pool.query('SELECT role, disabled_at, name FROM operators WHERE id = $1', [admin.id]);
    expect(rows[0]).toMatchObject({ role: 'admin', disabled_at: null, name: 'Test admin' });

    const renamed = await withCookie(t, admin.token, {
      method: 'PATCH',
      url: `/v1/operators/${admin.id}`,
      payload: { name: 'Me', role: 'admin' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.data.name).toBe('Me');

    // Another admin may.
    const other = await activeOperator(t, 'admin');
    const demoted = await withCookie(t, other.token, {
      method: 'PATCH',
      url: `/v1/operators/${admin.id}`,
      payload: { role: 'agent' },
    });
    expect(demoted.statusCode).toBe(200);
    expect(demoted.data.role).toBe('agent');
    // The demotion applies to the open session at once.
    const now = await withCookie(t, admin.token, { method: 'GET', url: '/v1/operators' });
    expect(now.statusCode).toBe(403);
  });
});

describe('two admins changing each other at once', () => {
  it('lets exactly one of a mutual demotion through, so an admin always remains', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await activeOperator(t, 'admin');
      const b = await activeOperator(t, 'admin');
      const demote = (actor: typeof a, target: typeof b) =>
        withCookie(t, actor.token, { method: 'PATCH', url: `/v1/operators/${target.id}`, payload: { role: 'agent' } });
      const answers = await Promise.all([demote(a, b), demote(b, a)]);
      expect(answers.map((r) => r.statusCode).sort(), answers.map((r) => r.body).join('\n')).toEqual([200, 403]);
      const { rows } = await t.pool.query('SELECT role FROM operators WHERE id = ANY($1::bigint[])', [[a.id, b.id]]);
      expect(rows.map((r) => r.role).sort()).toEqual(['admin', 'agent']);
    }
  });
});
