// While the database cannot be reached, requests get 503 database_unavailable with
// Retry-After, never a 500; a claim without Idempotency-Key is told that it may have happened.
import net from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { isDatabaseUnavailable } from '../../src/db/errors';
import { createPool, type Pool } from '../../src/db/pool';
import { useTestApp } from '../support/context';

// A working app on this file's database, for keys that authenticate.
const t = useTestApp({ RATE_LIMIT_PER_MINUTE: '0' });

/** A TCP port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function appOn(pool: Pool): Promise<FastifyInstance> {
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0' }), databaseUrl: 'unused' };
  const app = await buildApp({ config, pool, logger: pino({ level: 'silent' }) });
  await app.ready();
  return app;
}

let unreachable: { app: FastifyInstance; pool: Pool };
beforeAll(async () => {
  const pool = createPool(`postgres://nobody:secret@127.0.0.1:${await closedPort()}/promo`, 2);
  unreachable = { app: await appOn(pool), pool };
});
afterAll(async () => {
  await unreachable?.app.close();
  await unreachable?.pool.end();
});

/** Calls `app`, then checks for a 503 database_unavailable in the error shape, with Retry-After. */
async function expectUnavailable(app: FastifyInstance, options: InjectOptions) {
  const res = await app.inject(options);
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  const data = res.json();
  expect(Object.keys(data)).toEqual(['error']);
  expect(Object.keys(data.error)).toEqual(['code', 'message']);
  expect(data.error.code).toBe('database_unavailable');
  expect(data.error.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|nobody|secret/);
  return data.error.message as string;
}

const bearer = (role: 'admin' | 'agent' | 'client') => ({ authorization: `Bearer ${t.keys[role]}` });

/**
 * Known keys are remembered for a few seconds (api-keys.service.ts), so a key just used on the
 * working app authenticates on the unreachable one without a query: the request then fails
 * where the work itself meets the database, as when it goes away mid-request.
 */
async function remember(role: 'admin' | 'agent' | 'client') {
  expect((await t.app.inject({ method: 'GET', url: '/v1/offers', headers: bearer(role) })).statusCode).toBe(
    role === 'client' ? 403 : 200,
  );
}

describe('an unreachable database', () => {
  it('GET /v1/lists → 503 database_unavailable with Retry-After, also when the key lookup is what fails', async () => {
    const message = await expectUnavailable(unreachable.app, {
      method: 'GET',
      url: '/v1/lists',
      headers: bearer('agent'),
    });
    expect(message).toMatch(/retry/);
    await expectUnavailable(unreachable.app, {
      method: 'GET',
      url: '/v1/lists',
      headers: { authorization: 'Bearer pk_unknown' },
    });
    await remember('agent');
    await expectUnavailable(unreachable.app, { method: 'GET', url: '/v1/lists', headers: bearer('agent') });
  });

  it('a claim without Idempotency-Key is told that it may have been applied, and where to check', async () => {
    await remember('client');
    const payload = { code: 'SPRING', customer_id: 'c-1' };
    const message = await expectUnavailable(unreachable.app, {
      method: 'POST',
      url: '/v1/claims',
      payload,
      headers: bearer('client'),
    });
    expect(message).toMatch(/may or may not have been applied/);
    expect(message).toContain('GET /v1/customers/{customer_id}/claims');
    expect(message).toMatch(/Idempotency-Key/);
  });

  it('a claim whose key lookup failed has not begun: it is only told to retry', async () => {
    const headers = { authorization: 'Bearer never-seen-before-key-0123' };
    const message = await expectUnavailable(unreachable.app, {
      method: 'POST',
      url: '/v1/claims',
      payload: { code: 'SPRING', customer_id: 'c-1' },
      headers,
    });
    expect(message).not.toMatch(/may or may not/);
    expect(message).toMatch(/retry/);
  });

  it('a claim with Idempotency-Key is told that retrying with it is safe', async () => {
    await remember('client');
    const headers = { ...bearer('client'), 'idempotency-key': 'retry-me-1' };
    const message = await expectUnavailable(unreachable.app, {
      method: 'POST',
      url: '/v1/claims',
      payload: { code: 'SPRING', customer_id: 'c-1' },
      headers,
    });
    expect(message).toMatch(/same Idempotency-Key is safe/);
    expect(message).not.toMatch(/may or may not/);
  });

  it('a reversal without Idempotency-Key gets the warning too', async () => {
    await remember('agent');
    const options = {
      method: 'POST' as const,
      url: '/v1/claims/1/reversal',
      payload: { reason: 'mistake' },
      headers: bearer('agent'),
    };
    const message = await expectUnavailable(unreachable.app, options);
    expect(message).toMatch(/the reversal may or may not have been applied/);
    expect(message).toContain('GET /v1/claims/{id}');
  });

  it('a pool already ended (shutdown) → 503 as well', async () => {
    const pool = createPool(t.databaseUrl, 1);
    const app = await appOn(pool);
    try {
      await pool.end();
      await expectUnavailable(app, { method: 'GET', url: '/v1/lists', headers: bearer('agent') });
    } finally {
      await app.close();
    }
  });

  it('a connection that PostgreSQL terminates mid-request → 503, and the app recovers', async () => {
    const pool = createPool(t.databaseUrl, 1);
    const app = await appOn(pool);
    try {
      await remember('agent');
      // The pool's one connection is killed while idle; the next request meets it broken or
      // gets a new one: either way, never a 500.
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await t.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      const res = await app.inject({ method: 'GET', url: '/v1/lists', headers: bearer('agent') });
      expect([200, 503]).toContain(res.statusCode);
      if (res.statusCode === 503) expect(res.json().error.code).toBe('database_unavailable');
      expect((await app.inject({ method: 'GET', url: '/v1/lists', headers: bearer('agent') })).statusCode).toBe(200);
    } finally {
      await app.close();
      await pool.end();
    }
  });
});

describe('isDatabaseUnavailable', () => {
  const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code, severity: 'FATAL' });
  const nodeError = (code: string) =>
    Object.assign(new Error(`connect ${code}`), { code, errno: -1, syscall: 'connect' });

  it('says yes for lost or refused connections and a server that cannot take work', () => {
    for (const code of ['08000', '08001', '08003', '08006', '57P01', '57P02', '57P03', '53300', '53100', '53200']) {
      expect(isDatabaseUnavailable(pgError(code)), code).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']) {
      expect(isDatabaseUnavailable(nodeError(code)), code).toBe(true);
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(isDatabaseUnavailable(new Error(message)), message).toBe(true);
    }
    expect(
      isDatabaseUnavailable(
        new AggregateError([nodeError('ECONNREFUSED'), nodeError('ECONNREFUSED')], 'connect failed'),
      ),
    ).toBe(true);
  });

  it('says no for refusals of the statement itself and for anything else', () => {
    for (const code of ['08P01', '23505', '23514', '22P02', '40001', '40P01', '42P01', '57014', '28P01', '3D000']) {
      expect(isDatabaseUnavailable(pgError(code)), code).toBe(false);
    }
    // 08P01 (protocol violation) is a bug of the client's. An SQLSTATE-like code without a
    // severity is not PostgreSQL's; a severity decides.
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '08006' }))).toBe(false);
    for (const value of [
      new Error('boom'),
      new TypeError('Cannot read properties of undefined'),
      null,
      undefined,
      'Connection terminated',
      { code: 'ECONNREFUSED' },
    ]) {
      expect(isDatabaseUnavailable(value)).toBe(false);
    }
  });
});
