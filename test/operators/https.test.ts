// Behind HTTPS (PUBLIC_URL https://…): the session cookie is Secure, and a proxy that rewrites
// Host does not break the CSRF check for requests from the public origin. And the settings.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { useTestApp } from '../support/context';
import { activeOperator, createOperator, signIn, withCookie } from './operator-helpers';

const t = useTestApp({ PUBLIC_URL: 'https://promo.example', SESSION_TTL: '30m' });

describe('sessions behind HTTPS', () => {
  it('marks the cookie Secure', async () => {
    const op = await createOperator(t, 'agent');
    const res = await signIn(t, op.email, op.password);
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).toMatch(/;\s*Secure/i);
    const { rows } = await t.pool.query(
      'SELECT expires_at - created_at AS ttl FROM operator_sessions WHERE operator_id = $1',
      [op.id],
    );
    expect(rows[0].ttl).toMatchObject({ minutes: 30 });
  });

  it('accepts the public origin even when the proxy changed Host', async () => {
    const admin = await activeOperator(t, 'admin');
    const payload = { id: 'via-proxy', name: 'Via proxy' };
    const ok = await withCookie(t, admin.token, {
      method: 'POST',
      url: '/v1/offers',
      payload,
      headers: { origin: 'https://promo.example', host: '10.0.0.7:3000' },
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const other = await withCookie(t, admin.token, {
      method: 'POST',
      url: '/v1/offers',
      payload: { id: 'via-elsewhere', name: 'x' },
      headers: { origin: 'https://promo.example.evil', host: '10.0.0.7:3000' },
    });
    expect(other.statusCode).toBe(403);
  });
});

describe('settings', () => {
  it('reads SESSION_TTL as a duration and checks ADMIN_EMAIL', () => {
    expect(loadConfig({}).sessionTtlSeconds).toBe(12 * 3600);
    expect(loadConfig({ SESSION_TTL: '2h' }).sessionTtlSeconds).toBe(7200);
    expect(loadConfig({}).adminEmail).toBe('admin@localhost');
    expect(loadConfig({ ADMIN_EMAIL: 'ops@example.com' }).adminEmail).toBe('ops@example.com');
    expect(() => loadConfig({ ADMIN_EMAIL: 'not an email' })).toThrow(ConfigError);
    expect(() => loadConfig({ SESSION_TTL: 'forever' })).toThrow(/SESSION_TTL/);
    expect(() => loadConfig({ SESSION_TTL: '10s' })).toThrow(/SESSION_TTL/);
  });
});
