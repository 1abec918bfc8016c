// Cross-origin browser clients (README, CORS_ORIGINS): the origins listed may call the API,
// preflight included; any other origin gets no Access-Control-Allow-Origin, so its browser
// refuses the answer. Without CORS_ORIGINS no origin is allowed.
import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../support/context';

const SHOP = 'https://shop.example.com';

const preflight = (t: TestApp, origin: string) =>
  t.app.inject({
    method: 'OPTIONS',
    url: '/v1/claims',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    },
  });

describe('CORS_ORIGINS set', () => {
  const t = useTestApp({ CORS_ORIGINS: `${SHOP},https://app.example.com` });

  it('answers a preflight from a listed origin with what it may send', async () => {
    const res = await preflight(t, SHOP);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SHOP);
    expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(res.headers['access-control-allow-headers'])).toContain('idempotency-key');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('lets a listed origin read the answer and its headers', async () => {
    const res = await t.call('client', {
      method: 'POST',
      url: '/v1/claims/validate',
      payload: { code: 'NONE', customer_id: 'c' },
      headers: { origin: SHOP },
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers['access-control-allow-origin']).toBe(SHOP);
    expect(String(res.headers['access-control-expose-headers'])).toContain('idempotent-replayed');
    expect(String(res.headers['access-control-expose-headers'])).toContain('ratelimit-remaining');
    expect(String(res.headers.vary)).toContain('Origin');
  });

  it('gives any other origin nothing to read', async () => {
    const res = await preflight(t, 'https://evil.example.net');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const read = await t.call('client', {
      method: 'GET',
      url: '/v1/lists',
      headers: { origin: 'https://evil.example.net' },
    });
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS_ORIGINS unset', () => {
  const t = useTestApp();

  it('allows no origin, preflight or not', async () => {
    const res = await preflight(t, SHOP);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const read = await t.call('admin', { method: 'GET', url: '/v1/lists', headers: { origin: SHOP } });
    expect(read.statusCode).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });
});
