// Per test file: a database cloned from the migrated template, an app built on it, and keys
// for each role. Call `useTestApp()` at the top of a test file.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createPool, transaction, type Pool } from '../../src/db/pool';
import { createApiKey } from '../../src/auth/api-keys.service';
import type { UserRole } from '../../src/auth/roles';
import { UNDECLARED_ERROR } from '../../src/http/openapi';
import { withDatabase } from './global-setup';

export interface TestApp {
  app: FastifyInstance;
  pool: Pool;
  databaseUrl: string;
  keys: Record<UserRole, string>;
  /** How each role's key is named in the audit log (`api_key:<id>`). */
  actors: Record<UserRole, string>;
  /** app.inject with a role's key (or none) and JSON parsed. */
  call(role: UserRole | null, options: InjectOptions): Promise<LightMyRequestResponse & { body: string; data: any }>;
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = inject('serverUrl');
  const name = `promo_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDb')}`);
  await admin.end();
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * The app's logger in tests: silent unless TEST_LOG_LEVEL is set, except that it keeps every
 * error answer a route does not declare (http/openapi.ts), which fails the file.
 */
function contractLogger() {
  const breaks: unknown[] = [];
  const shown = process.env.TEST_LOG_LEVEL;
  const logger = pino(
    { level: shown ?? 'error' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as {
          msg?: string;
          route?: string;
          status?: number;
          code?: string;
          extra?: string[];
        };
        if (entry.msg === UNDECLARED_ERROR)
          breaks.push({ route: entry.route, status: entry.status, code: entry.code, extra: entry.extra });
        if (shown) process.stdout.write(line);
      },
    },
  );
  return { logger, breaks };
}

export function useTestApp(env: Record<string, string> = {}): TestApp {
  const ctx = {} as TestApp;
  const contract = contractLogger();
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    const config: Config = { ...loadConfig({ LOG_LEVEL: 'silent', ...env }), databaseUrl: database.url };
    ctx.databaseUrl = database.url;
    ctx.pool = createPool(database.url, config.databasePoolSize);
    ctx.app = await buildApp({ config, pool: ctx.pool, logger: contract.logger });
    await ctx.app.ready();
    const keys = {} as Record<UserRole, string>;
    ctx.actors = {} as Record<UserRole, string>;
    for (const role of ['admin', 'agent', 'client'] as const) {
      const created = await transaction(ctx.pool, (tx) => createApiKey(tx, null, { name: `test ${role}`, role }));
      keys[role] = created.key;
      ctx.actors[role] = `api_key:${created.id}`;
    }
    ctx.keys = keys;
    ctx.call = async (role, options) => {
      const headers = { ...(options.headers ?? {}) } as Record<string, string>;
      if (role) headers.authorization = `Bearer ${keys[role]}`;
      const response = await ctx.app.inject({ ...options, headers });
      let data: unknown;
      try {
        data = response.body ? JSON.parse(response.body) : undefined;
      } catch {
        data = undefined;
      }
      return Object.assign(response, { data });
    };
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.pool?.end();
    await drop();
    expect(contract.breaks, 'error answers the OpenAPI document does not declare for their route').toEqual([]);
  });
  return ctx;
}
