// A PostgreSQL cluster of the fault suite's own, in a temporary folder on a free port (the
// machine's PostgreSQL and the test run's embedded one are never touched), which a test can
// restart the way `pg_ctl restart -m fast|immediate` does: SIGINT (fast: sessions ended, clean
// checkpoint) or SIGQUIT (immediate: every process quits at once, crash recovery at the next
// start) to the postmaster, then a new start on the same folder and port.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';
import { freePort } from '../support/global-setup';

export type ShutdownMode = 'fast' | 'immediate';

export interface FaultCluster {
  /** A TCP URL, as a service on another machine would have it. */
  url: string;
  restart(mode: ShutdownMode, downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultCluster(): Promise<FaultCluster> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'promo-fault-pg-'));
  const port = await freePort();
  let db: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir, port });
  const password = (await readFile(path.join(dataDir, 'postgres.password'), 'utf8')).trim();
  const postmasterPid = () =>
    Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    async restart(mode, downMs = 1000) {
      const pid = postmasterPid();
      process.kill(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
      for (let waited = 0; existsSync(`/proc/${pid}`) && !isZombie(pid); waited += 50) {
        if (waited > 30_000) throw new Error(`PostgreSQL ${pid} did not stop`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, downMs)); // a maintenance window, however short
      db = await startEmbeddedPostgres({ dataDir, port });
    },
    async stop() {
      await db.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
