// Operators made through the API, signed in through the session routes, and requests sent
// with their cookie, as the dashboard sends them.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { InjectOptions } from 'fastify';
import type { UserRole } from '../../src/auth/roles';
import type { TestApp } from '../support/context';

export const DASHBOARD = { 'x-requested-with': 'promo-dashboard' };

export const uniqueEmail = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;

export async function createOperator(t: TestApp, role: UserRole, email = uniqueEmail(role)) {
  const res = await t.call('admin', {
    method: 'POST',
    url: '/v1/operators',
    payload: { email, role, name: `Test ${role}` },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.data as { id: string; email: string; password: string; role: UserRole };
}

export async function signIn(t: TestApp, email: string, password: string) {
  const res = await t.app.inject({ method: 'POST', url: '/session', payload: { email, password } });
  const cookie = res.cookies.find((c) => c.name === 'promo_session');
  return Object.assign(res, { data: res.body ? JSON.parse(res.body) : undefined, token: cookie?.value ?? null });
}

/** A request carrying the session cookie (and, unless `csrf: false`, the dashboard's header). */
export async function withCookie(t: TestApp, token: string, options: InjectOptions, { csrf = true } = {}) {
  const headers = {
    ...(options.headers ?? {}),
    cookie: `promo_session=${token}`,
    ...(csrf ? DASHBOARD : {}),
  } as Record<string, string>;
  const res = await t.app.inject({ ...options, headers });
  return Object.assign(res, { data: res.body ? JSON.parse(res.body) : undefined });
}

/** An operator who has signed in and chosen their own password: ready to use the dashboard. */
export async function activeOperator(t: TestApp, role: UserRole) {
  const created = await createOperator(t, role);
  const first = await signIn(t, created.email, created.password);
  expect(first.statusCode, first.body).toBe(200);
  const password = `own password ${randomBytes(6).toString('hex')}`;
  const changed = await withCookie(t, first.token!, {
    method: 'POST',
    url: '/session/password',
    payload: { current_password: created.password, new_password: password },
  });
  expect(changed.statusCode, changed.body).toBe(200);
  return { id: created.id, email: created.email, password, token: first.token!, actor: `operator:${created.id}` };
}
