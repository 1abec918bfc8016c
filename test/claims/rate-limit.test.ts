// Rate limits on the claim routes (docs/product.md): per API key and per client IP, each
// RATE_LIMIT_PER_MINUTE; over it → 429 rate_limited with Retry-After; 0 turns them off.
// Each describe block has an app of its own, with its own setting.
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../support/context';
import { createList, registerCustomer } from '../support/fixtures';

async function prepare(t: TestApp) {
  for (const id of ['rl-a', 'rl-b']) await registerCustomer(t, id);
  await createList(t, { name: 'RL', type: 'multi_use', code: 'RATE-LIMITED', outcome: { tags: ['rl'] } });
}

/** A new client key of its own, so that each test starts with a fresh count for its key. */
async function clientKey(t: TestApp, name: string): Promise<string> {
  const res = await t.call('admin', { method: 'POST', url: '/v1/api-keys', payload: { name, role: 'client' } });
  expect(res.statusCode).toBe(201);
  return res.data.key;
}

function send(t: TestApp, key: string, ip: string, options: Partial<InjectOptions> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/claims/validate',
    payload: { code: 'RATE-LIMITED', customer_id: 'rl-a' },
    remoteAddress: ip,
    ...options,
    headers: { authorization: `Bearer ${key}`, ...(options.headers as Record<string, string> | undefined) },
  } as InjectOptions);
}

const claimOptions = (customer_id: string): Partial<InjectOptions> => ({
  url: '/v1/claims',
  payload: { code: 'RATE-LIMITED', customer_id },
});

function expectRateLimited(res: { statusCode: number; body: string; headers: Record<string, unknown> }) {
  expect(res.statusCode, res.body).toBe(429);
  const body = JSON.parse(res.body);
  expect(body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
  const retry = Number(res.headers['retry-after']);
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
  // The draft-spec headers of @fastify/rate-limit, for the limit that refused.
  expect(res.headers['ratelimit-remaining']).toBe('0');
  expect(Number(res.headers['ratelimit-reset'])).toBe(retry);
}

describe('RATE_LIMIT_PER_MINUTE=5', () => {
  const t = useTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  beforeAll(async () => prepare(t));

  it('refuses the 6th claim request of a key within a minute: 429 rate_limited, Retry-After, not run', async () => {
    const key = await clientKey(t, 'claims');
    const ips = ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6'];
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await send(t, key, ips[i]!, i === 0 ? claimOptions('rl-a') : {}));
    // A claim, then validations of a claimed code.
    expect(answers.map((a) => a.statusCode)).toEqual([201, 409, 409, 409, 409]);
    // Every answer says where the tightest limit (here the key's) stands.
    expect(answers.map((a) => [a.headers['ratelimit-limit'], a.headers['ratelimit-remaining']])).toEqual([
      ['5', '4'],
      ['5', '3'],
      ['5', '2'],
      ['5', '1'],
      ['5', '0'],
    ]);
    for (const a of answers) expect(Number(a.headers['ratelimit-reset'])).toBeGreaterThan(0);
    const sixth = await send(t, key, ips[5]!, claimOptions('rl-b'));
    expectRateLimited(sixth);
    // The refused claim never ran: rl-b has no claim and no attempt.
    const { rows } = await t.pool.query(
      `SELECT (SELECT count(*)::int FROM claims WHERE customer_id = 'rl-b') AS claims,
              (SELECT count(*)::int FROM attempts WHERE customer_id = 'rl-b') AS attempts`,
    );
    expect(rows[0]).toEqual({ claims: 0, attempts: 0 });
  });

  it('counts claims and validations of a key together, whatever their answer', async () => {
    const key = await clientKey(t, 'mixed');
    const ip = '10.2.0.1';
    expect((await send(t, key, ip, { payload: { code: 'NOPE', customer_id: 'rl-a' } })).statusCode).toBe(404);
    expect((await send(t, key, ip, { payload: { code: 'RATE-LIMITED', customer_id: 'nobody' } })).statusCode).toBe(404);
    expect((await send(t, key, ip, claimOptions('rl-a'))).statusCode).toBe(409);
    expect((await send(t, key, ip)).statusCode).toBe(409);
    expect((await send(t, key, ip, claimOptions('nobody'))).statusCode).toBe(404);
    expectRateLimited(await send(t, key, ip));
    expectRateLimited(await send(t, key, ip, claimOptions('rl-a')));
  });

  it('keeps keys apart: another key from another address still gets its own 5', async () => {
    const first = await clientKey(t, 'first');
    const second = await clientKey(t, 'second');
    for (let i = 0; i < 5; i++) expect((await send(t, first, `10.3.0.${i + 1}`)).statusCode).not.toBe(429);
    expectRateLimited(await send(t, first, '10.3.0.9'));
    for (let i = 0; i < 5; i++) expect((await send(t, second, `10.4.0.${i + 1}`)).statusCode).not.toBe(429);
    expectRateLimited(await send(t, second, '10.4.0.9'));
  });

  it('limits only the claim routes', async () => {
    const key = await clientKey(t, 'other routes');
    for (let i = 0; i < 8; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/customers/rl-a',
        remoteAddress: '10.5.0.1',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.statusCode).toBe(200);
    }
  });

  it('limits an address across keys: the 6th request from one IP is refused even with fresh keys', async () => {
    const keys = [await clientKey(t, 'ip-1'), await clientKey(t, 'ip-2'), await clientKey(t, 'ip-3')];
    const ip = '10.6.0.1';
    for (let i = 0; i < 5; i++) expect((await send(t, keys[i % 3]!, ip)).statusCode).not.toBe(429);
    expectRateLimited(await send(t, keys[2]!, ip));
  });
});

describe('RATE_LIMIT_PER_MINUTE=0', () => {
  const t = useTestApp({ RATE_LIMIT_PER_MINUTE: '0' });
  beforeAll(async () => prepare(t));

  it('turns the limits off', async () => {
    const key = await clientKey(t, 'unlimited');
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await send(t, key, '10.9.0.1', i % 2 ? claimOptions('rl-a') : {}));
    expect(answers.filter((a) => a.statusCode === 429)).toEqual([]);
    expect(answers[0]!.statusCode).toBe(200);
    expect(answers[1]!.statusCode).toBe(201);
    expect(answers[39]!.statusCode).toBe(409);
    for (const a of answers) expect(a.headers['x-ratelimit-limit']).toBeUndefined();
  });
});

describe('TRUST_PROXY_HOPS=1', () => {
  const t = useTestApp({ RATE_LIMIT_PER_MINUTE: '5', TRUST_PROXY_HOPS: '1' });
  beforeAll(() => prepare(t));

  it('counts clients behind the proxy by X-Forwarded-For, not by the proxy address', async () => {
    const proxy = '10.9.9.9';
    const from = (client: string) => ({ headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < 5; i++)
      expect((await send(t, await clientKey(t, `tp-a${i}`), proxy, from('203.0.113.7'))).statusCode).toBe(200);
    expectRateLimited(await send(t, await clientKey(t, 'tp-a5'), proxy, from('203.0.113.7')));
    // Another client through the same proxy still has its own allowance.
    expect((await send(t, await clientKey(t, 'tp-b'), proxy, from('203.0.113.8'))).statusCode).toBe(200);
  });
});
