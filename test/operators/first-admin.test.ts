// The first admin (docs/product.md): on a database that never had an operator, start-up creates one
// admin with a one-time password and prints its login, once.
import { afterAll, describe, expect, it } from 'vitest';
import { ensureFirstAdmin } from '../../src/operators/operators.service';
import { createTestDatabase, useTestApp } from '../support/context';
import { freePort } from '../support/global-setup';
import { spawnService, type ServiceProcess } from '../support/service-process';
import { signIn } from './operator-helpers';

const t = useTestApp();

describe('ensureFirstAdmin', () => {
  it('creates exactly one admin when called five times at once, and none afterwards', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => ensureFirstAdmin(t.pool, 'admin@localhost')));
    const created = results.filter((r) => r !== null);
    expect(created).toHaveLength(1);
    expect(created[0]).toEqual({ email: 'admin@localhost', password: expect.any(String) });

    const { rows } = await t.pool.query('SELECT id, email, role, must_change_password, created_by FROM operators');
    expect(rows).toEqual([
      {
        id: expect.any(String),
        email: 'admin@localhost',
        role: 'admin',
        must_change_password: true,
        created_by: 'system',
      },
    ]);
    expect(await ensureFirstAdmin(t.pool, 'admin@localhost')).toBeNull();

    const res = await signIn(t, 'admin@localhost', created[0]!.password);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.data.operator).toMatchObject({ role: 'admin', must_change_password: true });

    const audit = await t.call('admin', {
      method: 'GET',
      url: `/v1/audit?entity_type=operator&entity_id=${rows[0].id}`,
    });
    expect(audit.data.items).toMatchObject([{ action: 'operator.create', actor: 'system' }]);
    expect(audit.body).not.toContain(created[0]!.password);
  });

  it('does not come back when every operator is gone', async () => {
    await t.pool.query('DELETE FROM operator_sessions');
    await t.pool.query('DELETE FROM operators');
    expect(await ensureFirstAdmin(t.pool, 'admin@localhost')).toBeNull();
    expect((await t.pool.query('SELECT 1 FROM operators')).rows).toEqual([]);
  });
});

describe('npm start on an empty database', () => {
  let server: ServiceProcess | null = null;
  let dropDatabase: () => Promise<void> = async () => {};

  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await dropDatabase();
  });

  async function run(
    env: Record<string, string | undefined>,
    until: (output: string) => boolean,
  ): Promise<ServiceProcess> {
    server = spawnService(env);
    const deadline = Date.now() + 60_000;
    while (!until(server.output())) {
      if (server.child.exitCode !== null) throw new Error(`the service exited:\n${server.output()}`);
      if (Date.now() > deadline) throw new Error(`the service did not get ready:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return server;
  }

  async function stop(service: ServiceProcess) {
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  }

  it('prints the login of a new admin once, whatever LOG_LEVEL, and it works', async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    const port = await freePort();
    const env = {
      DATABASE_URL: database.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ROLE: 'api',
      LOG_LEVEL: 'silent',
      SEED_DEMO: 'false',
      ADMIN_EMAIL: 'boss@example.com',
      ADMIN_API_KEY: undefined,
      PUBLIC_URL: undefined,
    };
    const first = await run(env, (out) => /password: \S+/.test(out));
    const output = first.output();
    expect(output).toContain(`Dashboard login: http://localhost:${port}/\n`);
    expect(output).toContain('  email:    boss@example.com\n');
    expect(output).toContain('must be changed at first login');
    const password = /^ {2}password: (\S+)$/m.exec(output)![1]!;

    const login = await fetch(`http://127.0.0.1:${port}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'boss@example.com', password }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toMatch(/^promo_session=/);
    await stop(first);

    // The next start finds the admin and prints nothing (it logs, so we know when it is ready).
    const second = await run({ ...env, LOG_LEVEL: 'info' }, (out) => out.includes('"msg":"ready"'));
    expect(second.output()).not.toContain('Dashboard login');
    expect(second.output()).not.toContain(password);
    await stop(second);
  }, 120_000);
});
