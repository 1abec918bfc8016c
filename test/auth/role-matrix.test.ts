// Every /v1 route against every caller: no key, each role. The table comes from the routes
// themselves (app.accessTable), so a new route is covered the moment it is registered.
import { describe, expect, it } from 'vitest';
import { transaction } from '../../src/db/pool';
import { createApiKey } from '../../src/auth/api-keys.service';
import { ROLES, type UserRole } from '../../src/auth/roles';
import { useTestApp } from '../support/context';

const t = useTestApp();

// Ids that exist nowhere, valid for numeric ids and catalog keys alike, so an allowed call
// reaches its handler without touching the test's own keys.
const placeholder = (url: string) => url.replace(/:[A-Za-z_]+/g, '999999999');
const rank = (role: UserRole | null) => (role === null ? -1 : ROLES.indexOf(role));

function routes() {
  // HEAD routes mirror GET routes and carry no body to check.
  return t.app.accessTable.filter((r) => r.method !== 'HEAD');
}

function request(method: string, url: string) {
  const withBody = ['POST', 'PUT', 'PATCH'].includes(method);
  return { method: method as 'GET', url: placeholder(url), ...(withBody ? { payload: {} } : {}) };
}

describe('role matrix', () => {
  it('covers a non-trivial set of routes, each with a known access level', () => {
    const table = routes();
    const names = table.map((r) => `${r.method} ${r.url}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /v1/api-keys',
        'GET /v1/api-keys',
        'DELETE /v1/api-keys/:id',
        'GET /v1/audit',
        'POST /v1/offers',
        'GET /v1/offers/:id',
        'PATCH /v1/offers/:id',
        'GET /v1/point-accounts',
        'POST /v1/point-sources',
        'POST /v1/operators',
        'GET /v1/operators',
        'PATCH /v1/operators/:id',
        'POST /v1/webhook-endpoints',
        'GET /v1/webhook-endpoints',
        'GET /v1/webhook-endpoints/:id',
        'PATCH /v1/webhook-endpoints/:id',
        'DELETE /v1/webhook-endpoints/:id',
        'POST /v1/webhook-endpoints/:id/rotate-secret',
      ]),
    );
    for (const route of table) expect(['public', ...ROLES]).toContain(route.access);
    // The spec's admin-only surface is admin-only.
    for (const url of [
      '/v1/api-keys',
      '/v1/api-keys/:id',
      '/v1/audit',
      '/v1/operators',
      '/v1/operators/:id',
      '/v1/webhook-endpoints',
      '/v1/webhook-endpoints/:id',
      '/v1/webhook-endpoints/:id/rotate-secret',
    ]) {
      for (const route of table.filter((r) => r.url === url)) expect(route.access).toBe('admin');
    }
  });

  it('answers 401 without a key, 403 below the route role, and lets allowed roles through', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes()) {
      for (const role of [null, ...ROLES] as const) {
        const res = await t.call(role, request(route.method, route.url));
        checked++;
        const who = role ?? 'no key';
        const answer = `${res.statusCode} ${res.body.slice(0, 120)}`;
        const label = `${route.method} ${route.url} as ${who} (needs ${route.access}) → ${answer}`;
        if (res.statusCode >= 500) failures.push(`5xx: ${label}`);
        if (route.access === 'public') {
          if (res.statusCode === 401 || res.statusCode === 403) failures.push(label);
        } else if (role === null) {
          if (res.statusCode !== 401 || res.data?.error?.code !== 'unauthorized') failures.push(label);
          else if (res.headers['www-authenticate'] !== 'Bearer') failures.push(`no WWW-Authenticate: ${label}`);
        } else if (rank(role) < rank(route.access)) {
          if (res.statusCode !== 403 || res.data?.error?.code !== 'forbidden') failures.push(label);
        } else if (res.statusCode === 401 || res.statusCode === 403) {
          failures.push(label);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(4 * 9);
  });

  it('checks the role before the body: a client gets 403 even for a malformed body', async () => {
    const res = await t.call('client', {
      method: 'POST',
      url: '/v1/api-keys',
      payload: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.data.error.code).toBe('forbidden');
  });
});

describe('credentials', () => {
  it('refuses a revoked key with 401', async () => {
    const created = await transaction(t.pool, (tx) => createApiKey(tx, null, { name: 'short-lived', role: 'admin' }));
    const auth = { authorization: `Bearer ${created.key}` };
    const before = await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: auth });
    expect(before.statusCode).toBe(200);

    const revoked = await t.call('admin', { method: 'DELETE', url: `/v1/api-keys/${created.id}` });
    expect(revoked.statusCode).toBe(200);

    const after = await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: auth });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('unauthorized');
  });

  it('refuses malformed and unknown Authorization headers with 401', async () => {
    const headers = [
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      'Bearer',
      'Bearer ',
      `Bearer ${t.keys.admin} extra`,
      `Token ${t.keys.admin}`,
      `Bearer ${'x'.repeat(300)}`,
      `Bearer ${t.keys.admin}x`,
      `Bearer pk_${'A'.repeat(43)}`,
      t.keys.admin,
    ];
    for (const authorization of headers) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/audit', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
    // The same key, well-formed (scheme case-insensitive), works.
    const ok = await t.app.inject({
      method: 'GET',
      url: '/v1/audit',
      headers: { authorization: `bearer ${t.keys.admin}` },
    });
    expect(ok.statusCode).toBe(200);
  });
});
