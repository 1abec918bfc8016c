// Debian's Chromium driven by playwright-core, and the service as a real process on a database
// of its own, started the way `npm start` starts it on an empty database.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestDatabase } from '../support/context';
import { freePort } from '../support/global-setup';
import { spawnService, type ServiceProcess } from '../support/service-process';
import { eventually } from '../support/worker';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    // Flags for a root, GPU-less machine with no outside network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface RunningService {
  url: string;
  adminKey: string;
  firstAdmin: { email: string; password: string };
  process: ServiceProcess;
  stop(): Promise<void>;
}

/** Starts the service on a fresh database and reads the first admin's login from its output. */
export async function startService(): Promise<RunningService> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'promo-e2e-'));
  const port = await freePort();
  const adminKey = `e2e-admin-${Math.random().toString(36).slice(2)}-key`;
  const service = spawnService({
    DATABASE_URL: database.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_API_KEY: adminKey,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'true',
    ROLE: 'all',
  });
  const url = `http://127.0.0.1:${port}`;
  const firstAdmin = await eventually(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`the service exited:\n${service.output()}`);
      const email = /email:\s+(\S+)/.exec(service.output())?.[1];
      const password = /password:\s+(\S+)/.exec(service.output())?.[1];
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      return ready && email && password ? { email, password } : null;
    },
    60_000,
    'the service to start and print the first admin login',
  );
  return {
    url,
    adminKey,
    firstAdmin,
    process: service,
    async stop() {
      service.child.kill('SIGTERM');
      await service.exited;
      await rm(dataDir, { recursive: true, force: true });
      await database.drop();
    },
  };
}

/**
 * Screenshots of the main views. `UPDATE_SCREENSHOTS=1` writes them to docs/screenshots (the
 * ones the README shows); otherwise to test/.tmp so that a test run leaves the tree clean.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? path.join(ROOT, 'docs/screenshots')
    : path.join(ROOT, 'test/.tmp/screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** Calls the service's API with a key, for the steps a client application does. */
export async function callApi(
  service: RunningService,
  key: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<any> {
  const response = await fetch(`${service.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${JSON.stringify(data)}`);
  return data;
}
