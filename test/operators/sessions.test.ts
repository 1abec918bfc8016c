// Signing in to the dashboard, the session cookie on /v1, CSRF, password change, sign-out
// and expiry.
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { DASHBOARD, activeOperator, createOperator, signIn, withCookie } from './operator-helpers';

const t = useTestApp();

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and answers the operator', async () => {
    const op = await createOperator(t, 'agent');
    const res = await signIn(t, op.email.toUpperCase(), op.password);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.data).toEqual({
      operator: { id: op.id, email: op.email, name: 'Test agent', role: 'agent', must_change_password: true },
    });

    const header = String(res.headers['set-cookie']);
    expect(header).toMatch(/^promo_session=[\w-]{43};/);
    expect(header).toMatch(/;\s*HttpOnly/i);
    expect(header).toMatch(/;\s*SameSite=Strict/i);
    expect(header).toMatch(/;\s*Path=\//i);
    expect(header).not.toMatch(/Secure/i); // plain http, PUBLIC_URL http

    // Only the token's hash is stored.
    const { rows } = await t.pool.query('SELECT * FROM operator_sessions WHERE operator_id = $1', [op.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].id).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(res.token);
    const { rows: ops } = await t.pool.query('SELECT last_login_at FROM operators WHERE id = $1', [op.id]);
    expect(ops[0].last_login_at).not.toBeNull();

    const me = await withCookie(t, res.token!, { method: 'GET', url: '/session' });
    expect(me.statusCode).toBe(200);
    expect(me.data.operator).toMatchObject({ id: op.id, must_change_password: true });
  });

  it('refuses a wrong password and an unknown email alike with 401 invalid_credentials', async () => {
    const op = await createOperator(t, 'agent');
    const wrong = await signIn(t, op.email, `${op.password}x`);
    const unknown = await signIn(t, 'nobody@example.com', op.password);
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.data.error.code).toBe('invalid_credentials');
      expect(res.token).toBeNull();
    }
    expect(unknown.data.error.message).toBe(wrong.data.error.message);

    const bad = await t.app.inject({
      method: 'POST',
      url: '/session',
      payload: { email: op.email, password: op.password, remember: true },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('validation_failed');
  });

  it('answers 401 unauthorized on GET /session without a session', async () => {
    for (const cookie of [undefined, 'promo_session=not-a-session-token-at-all-0000', 'promo_session=']) {
      const res = await t.app.inject({ method: 'GET', url: '/session', headers: cookie ? { cookie } : {} });
      expect(res.statusCode, cookie).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('limits sign-in attempts per client and email: 429 in the error shape', async () => {
    const op = await createOperator(t, 'client');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await signIn(t, op.email, 'wrong password')).statusCode);
    expect(statuses).toEqual(Array(10).fill(401));
    const limited = await signIn(t, op.email, op.password); // even the right password
    expect(limited.statusCode).toBe(429);
    expect(limited.data.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another operator, from the same client, is not held back.
    const other = await createOperator(t, 'client');
    expect((await signIn(t, other.email, other.password)).statusCode).toBe(200);
  });
});

describe('the session cookie on /v1', () => {
  it('requires a new password first: 403 password_change_required until it is changed', async () => {
    const op = await createOperator(t, 'agent');
    const { token } = await signIn(t, op.email, op.password);
    for (const url of ['/v1/offers', '/v1/lists']) {
      const res = await withCookie(t, token!, { method: 'GET', url });
      expect(res.statusCode).toBe(403);
      expect(res.data.error.code).toBe('password_change_required');
    }

    const same = await withCookie(t, token!, {
      method: 'POST',
      url: '/session/password',
      payload: { current_password: op.password, new_password: op.password },
    });
    expect(same.statusCode).toBe(400);
    expect(same.data.error.code).toBe('validation_failed');
    const short = await withCookie(t, token!, {
      method: 'POST',
      url: '/session/password',
      payload: { current_password: op.password, new_password: 'short pass' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.data.error.details.fields[0].path).toBe('body.new_password');
    const wrong = await withCookie(t, token!, {
      method: 'POST',
      url: '/session/password',
      payload: { current_password: 'not the password', new_password: 'a brand new password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.data.error.code).toBe('invalid_credentials');

    const changed = await withCookie(t, token!, {
      method: 'POST',
      url: '/session/password',
      payload: { current_password: op.password, new_password: 'a brand new password' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.data.operator).toMatchObject({ id: op.id, must_change_password: false });

    expect((await withCookie(t, token!, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(200);
    expect((await signIn(t, op.email, op.password)).statusCode).toBe(401);
    expect((await signIn(t, op.email, 'a brand new password')).statusCode).toBe(200);
  });

  it('gives an operator exactly their role', async () => {
    const agent = await activeOperator(t, 'agent');
    const read = await withCookie(t, agent.token, { method: 'GET', url: '/v1/offers' });
    expect(read.statusCode).toBe(200);
    const admin = await withCookie(t, agent.token, { method: 'GET', url: '/v1/api-keys' });
    expect(admin.statusCode).toBe(403);
    expect(admin.data.error.code).toBe('forbidden');

    const boss = await activeOperator(t, 'admin');
    expect((await withCookie(t, boss.token, { method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(200);
  });

  it('checks CSRF on changes: the dashboard header is required and a foreign Origin refused', async () => {
    const admin = await activeOperator(t, 'admin');
    const offer = (id: string) => ({ method: 'POST' as const, url: '/v1/offers', payload: { id, name: id } });

    const bare = await withCookie(t, admin.token, offer('csrf-bare'), { csrf: false });
    expect(bare.statusCode).toBe(403);
    expect(bare.data.error.code).toBe('csrf_check_failed');
    const wrongValue = await withCookie(
      t,
      admin.token,
      { ...offer('csrf-wrong'), headers: { 'x-requested-with': 'XMLHttpRequest' } },
      { csrf: false },
    );
    expect(wrongValue.statusCode).toBe(403);
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null', 'http://localhost:8080']) {
      const foreign = await withCookie(t, admin.token, {
        ...offer('csrf-foreign'),
        headers: { origin, host: 'localhost' },
      });
      expect(foreign.statusCode, origin).toBe(403);
      expect(foreign.data.error.code).toBe('csrf_check_failed');
    }
    const { rows } = await t.pool.query("SELECT id FROM offers WHERE id LIKE 'csrf-%'");
    expect(rows).toEqual([]);

    const ok = await withCookie(t, admin.token, offer('csrf-ok'));
    expect(ok.statusCode, ok.body).toBe(201);
    const sameOrigin = await withCookie(t, admin.token, {
      ...offer('csrf-same-origin'),
      headers: { origin: 'http://promo.example:3000', host: 'promo.example:3000' },
    });
    expect(sameOrigin.statusCode, sameOrigin.body).toBe(201);
    // Reads need no header; API keys are not subject to it.
    expect((await withCookie(t, admin.token, { method: 'GET', url: '/v1/offers' }, { csrf: false })).statusCode).toBe(
      200,
    );
    const byKey = await t.call('admin', { ...offer('csrf-by-key'), headers: { origin: 'https://evil.example' } });
    expect(byKey.statusCode).toBe(201);

    // The same rule for the session routes that change something.
    const password = await withCookie(
      t,
      admin.token,
      {
        method: 'POST',
        url: '/session/password',
        payload: { current_password: admin.password, new_password: 'changed by someone else' },
      },
      { csrf: false },
    );
    expect(password.statusCode).toBe(403);
    expect(password.data.error.code).toBe('csrf_check_failed');
    const logout = await withCookie(t, admin.token, {
      method: 'DELETE',
      url: '/session',
      headers: { origin: 'https://evil.example' },
    });
    expect(logout.statusCode).toBe(403);
    expect((await withCookie(t, admin.token, { method: 'GET', url: '/session' })).statusCode).toBe(200);
  });

  it('prefers an Authorization header to the cookie', async () => {
    const agent = await activeOperator(t, 'agent');
    const res = await withCookie(t, agent.token, {
      method: 'GET',
      url: '/v1/api-keys',
      headers: { authorization: `Bearer ${t.keys.admin}` },
    });
    expect(res.statusCode).toBe(200);
    const badKey = await withCookie(t, agent.token, {
      method: 'GET',
      url: '/v1/offers',
      headers: { authorization: 'Bearer nonsense' },
    });
    expect(badKey.statusCode).toBe(401);
  });
});

describe('ending sessions', () => {
  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const op = await activeOperator(t, 'agent');
    const out = await withCookie(t, op.token, { method: 'DELETE', url: '/session' });
    expect(out.statusCode).toBe(204);
    const cleared = out.cookies.find((c) => c.name === 'promo_session');
    expect(cleared?.value).toBe('');
    expect(cleared?.expires?.getTime()).toBeLessThan(Date.now());

    expect((await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(401);
    expect((await withCookie(t, op.token, { method: 'GET', url: '/session' })).statusCode).toBe(401);
    const { rows } = await t.pool.query('SELECT 1 FROM operator_sessions WHERE operator_id = $1', [op.id]);
    expect(rows).toEqual([]);
    // Signing out again, or without a session, is harmless.
    expect((await t.app.inject({ method: 'DELETE', url: '/session', headers: DASHBOARD })).statusCode).toBe(204);
  });

  it('expires a session: 401 once expires_at has passed', async () => {
    const op = await activeOperator(t, 'agent');
    expect((await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(200);
    await t.pool.query("UPDATE operator_sessions SET expires_at = now() - interval '1 second' WHERE operator_id = $1", [
      op.id,
    ]);
    const res = await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' });
    expect(res.statusCode).toBe(401);
    expect(res.data.error.code).toBe('unauthorized');
    expect((await withCookie(t, op.token, { method: 'GET', url: '/session' })).statusCode).toBe(401);
  });

  it('slides the expiry forward on use, at most once a minute', async () => {
    const op = await activeOperator(t, 'agent');
    const read = async () =>
      (await t.pool.query('SELECT last_seen_at, expires_at FROM operator_sessions WHERE operator_id = $1', [op.id]))
        .rows[0];
    // Seen two minutes ago, about to expire.
    await t.pool.query(
      `UPDATE operator_sessions
          SET last_seen_at = now() - interval '2 minutes', expires_at = now() + interval '5 seconds'
        WHERE operator_id = $1`,
      [op.id],
    );
    const before = await read();
    expect((await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(200);
    const after = await read();
    expect(after.last_seen_at.getTime()).toBeGreaterThan(before.last_seen_at.getTime());
    // SESSION_TTL defaults to 12 h.
    expect(after.expires_at.getTime() - after.last_seen_at.getTime()).toBe(12 * 3600 * 1000);

    // Used again within the minute: no write.
    expect((await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(200);
    expect(await read()).toEqual(after);
  });

  it('ends the other sessions when the password changes, keeping this one', async () => {
    const op = await activeOperator(t, 'agent');
    const second = await signIn(t, op.email, op.password);
    expect(second.statusCode).toBe(200);
    const changed = await withCookie(t, op.token, {
      method: 'POST',
      url: '/session/password',
      payload: { current_password: op.password, new_password: 'yet another long password' },
    });
    expect(changed.statusCode).toBe(200);
    expect((await withCookie(t, op.token, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(200);
    expect((await withCookie(t, second.token!, { method: 'GET', url: '/v1/offers' })).statusCode).toBe(401);
  });
});

describe('changing the password', () => {
  it('allows 10 changes a minute per operator, then answers 429 without checking', async () => {
    const op = await activeOperator(t, 'agent');
    const attempt = (current: string) =>
      withCookie(t, op.token, {
        method: 'POST',
        url: '/session/password',
        payload: { current_password: current, new_password: 'a brand new password' },
      });
    // activeOperator already changed the one-time password: that was the first of the 10.
    for (let i = 0; i < 9; i++) expect((await attempt(`wrong guess ${i}`)).statusCode).toBe(401);
    const limited = await attempt(op.password);
    expect(limited.statusCode, limited.body).toBe(429);
    expect(limited.data.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('auditing a password change', () => {
  it('records operator.change_password by the operator, with neither password', async () => {
    const op = await activeOperator(t, 'agent');
    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=operator&entity_id=${op.id}` });
    expect(audit.statusCode, audit.body).toBe(200);
    const change = audit.data.items.find((e: { action: string }) => e.action === 'operator.change_password');
    expect(change).toMatchObject({ actor: op.actor, entity_type: 'operator', entity_id: op.id });
    expect(audit.body).not.toContain(op.password);
    expect(audit.body).not.toContain('scrypt');
  });
});
