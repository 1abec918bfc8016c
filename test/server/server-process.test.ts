// The real process, as `npm start` runs it: no DATABASE_URL, so it starts its own embedded
// PostgreSQL under DATA_DIR. Stopped with SIGTERM it exits cleanly and keeps its data; killed
// with SIGKILL it leaves PostgreSQL running, and the next start recovers from that.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/global-setup';
import { spawnService, type ServiceProcess } from '../support/service-process';

const ADMIN_KEY = 'server-test-admin-key-0123456789';

type Server = ServiceProcess;

let dataDir = '';
let port = 0;
let pgPort = 0;
let current: Server | null = null;

function start(): Server {
  current = spawnService({
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    EMBEDDED_PG_PORT: String(pgPort),
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'info',
    ROLE: 'all',
    DATABASE_URL: undefined,
  });
  return current;
}

const url = (p: string) => `http://127.0.0.1:${port}${p}`;
const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

async function waitReady(server: Server, deadlineMs = 90_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited before it was ready:\n${server.output()}`);
    try {
      const res = await fetch(url('/readyz'), { signal: AbortSignal.timeout(2000) });
      if (res.status === 200 && ((await res.json()) as { status: string }).status === 'ready') return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server not ready after ${deadlineMs} ms:\n${server.output()}`);
}

async function stop(server: Server, signal: NodeJS.Signals, deadlineMs = 30_000) {
  server.child.kill(signal);
  const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), deadlineMs).unref());
  const result = await Promise.race([server.exited, timer]);
  if (!result) throw new Error(`server did not exit within ${deadlineMs} ms of ${signal}:\n${server.output()}`);
  return result;
}

const pidFile = () => path.join(dataDir, 'postgres', 'postmaster.pid');
function postmasterPid(): number | null {
  if (!existsSync(pidFile())) return null;
  const pid = Number(readFileSync(pidFile(), 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}
/** A live (non-zombie) PostgreSQL serving this test's DATA_DIR. */
function isOurPostgres(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return cmdline.includes('postgres') && cmdline.includes(dataDir) && !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

beforeAll(async () => {
  // Directly under the temp folder: as root the cluster runs as `postgres`, who must be able
  // to reach it (mkdtemp makes a 0700 folder, which the server opens to o+x itself).
  dataDir = await mkdtemp(path.join(tmpdir(), 'promo-server-test-'));
  port = await freePort();
  pgPort = await freePort();
});

afterAll(async () => {
  if (current && current.child.exitCode === null && current.child.signalCode === null) {
    await stop(current, 'SIGTERM').catch(async () => {
      current!.child.kill('SIGKILL');
      await current!.exited;
    });
  }
  const pid = postmasterPid();
  if (pid && isOurPostgres(pid)) {
    process.kill(pid, 'SIGINT');
    for (let waited = 0; isOurPostgres(pid) && waited < 20_000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    if (isOurPostgres(pid)) process.kill(pid, 'SIGKILL');
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('the server process with embedded PostgreSQL', () => {
  it('starts on a fresh DATA_DIR, serves the API and docs, and stops cleanly on SIGTERM', async () => {
    const server = start();
    await waitReady(server);

    const docs = await fetch(url('/docs'));
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(url('/docs/json'))).status).toBe(200);

    const unauthorised = await fetch(url('/v1/offers'));
    expect(unauthorised.status).toBe(401);

    const created = await fetch(url('/v1/offers'), {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ id: 'survives-restarts', name: 'Survives restarts' }),
    });
    expect(created.status, await created.clone().text()).toBe(201);

    // The demo catalog is seeded on an empty database.
    const seeded = await fetch(url('/v1/point-accounts'), { headers: admin });
    expect(((await seeded.json()) as { items: { key: string }[] }).items.map((a: { key: string }) => a.key)).toContain(
      'spendable',
    );

    const pgPid = postmasterPid();
    expect(pgPid).not.toBeNull();
    expect(isOurPostgres(pgPid!)).toBe(true);

    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null });
    // It stopped its PostgreSQL too.
    expect(isOurPostgres(pgPid!)).toBe(false);
    expect(existsSync(pidFile())).toBe(false);
  }, 150_000);

  it('reuses the data on the next start', async () => {
    const server = start();
    await waitReady(server);
    const offer = await fetch(url('/v1/offers/survives-restarts'), { headers: admin });
    expect(offer.status).toBe(200);
    expect(await offer.json()).toMatchObject({ id: 'survives-restarts', name: 'Survives restarts' });
    // Seeding ran once only.
    const accounts = (await (await fetch(url('/v1/point-accounts'), { headers: admin })).json()) as {
      items: { key: string }[];
    };
    expect(accounts.items.filter((a: { key: string }) => a.key === 'spendable')).toHaveLength(1);
  }, 150_000);

  it('recovers after SIGKILL left its PostgreSQL running', async () => {
    const killed = current!;
    const orphan = postmasterPid();
    expect(await stop(killed, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    // The scenario under test: PostgreSQL outlived the server and still holds its lock file.
    expect(orphan).not.toBeNull();
    expect(isOurPostgres(orphan!)).toBe(true);

    const server = start();
    await waitReady(server);
    expect(isOurPostgres(orphan!)).toBe(false);
    const fresh = postmasterPid();
    expect(fresh).not.toBeNull();
    expect(fresh).not.toBe(orphan);
    expect((await fetch(url('/v1/offers/survives-restarts'), { headers: admin })).status).toBe(200);

    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(isOurPostgres(fresh!)).toBe(false);
  }, 150_000);
});
