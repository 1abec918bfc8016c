// bench/claims — claims through the HTTP API of the real server, under load from autocannon
// (64 connections, 20 s per scenario, after a 3 s warm-up):
//   1. distinct single-use codes on an uncapped list
//   2. distinct single-use codes on a capped list
//   3. one multi-use code (capped) claimed by distinct customers
//   4. validate on distinct codes
// then GET /v1/codes/{code} latency with 10M codes stored, and, on the same database, the
// pgbench ceiling of a minimal claim transaction (and of the same with one shared counter row).
// Usage: npm run bench:claims [-- --duration 20 --connections 64 --codes 300000 --filler 10000000]
//   (DATABASE_URL to use a server; BENCH_POOL sets the server's DATABASE_POOL_SIZE)
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { api, argument, benchDatabase, machine, sleep, startServer, type RunningServer } from './support';

const duration = argument('duration', 20);
const connections = argument('connections', 64);
const codesPerList = argument('codes', 300_000);
const fillerCodes = argument('filler', 10_000_000);
const run = promisify(execFile);
const WARM_UP_SECONDS = 3;

interface Scenario {
  name: string;
  /** CPU time per request, ms, of the server process and of the database cluster. */
  serverCpuMs: number;
  databaseCpuMs: number;
  okPerSecond: number;
  requests: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
}

async function waitForBatch(server: RunningServer, id: string) {
  for (;;) {
    const batch = await api(server, 'GET', `/v1/batches/${id}`);
    if (batch.status === 'active') return;
    if (batch.status === 'failed') throw new Error(`batch ${id} failed: ${batch.error}`);
    await sleep(100);
  }
}

async function singleUseList(
  server: RunningServer,
  db: pg.Client,
  name: string,
  cap: number | null,
): Promise<string[]> {
  const outcome = { points: { amount: 10, account: 'spendable', source: 'promo_code' }, tags: ['bench'] };
  const list = await api(server, 'POST', '/v1/lists', { name, type: 'single_use', redemption_cap: cap, outcome });
  const batch = await api(server, 'POST', `/v1/lists/${list.id}/batches`, { count: codesPerList, name });
  await waitForBatch(server, batch.id);
  const { rows } = await db.query<{ code: string }>('SELECT code FROM codes WHERE list_id = $1 ORDER BY random()', [
    list.id,
  ]);
  return rows.map((r) => r.code);
}

/** Drives one route with a new body per request; counts only `okStatus` as done. */
async function drive(
  server: RunningServer,
  database: string,
  key: string,
  name: string,
  route: string,
  body: (i: number) => unknown,
  okStatus: number,
  seconds = duration,
): Promise<Scenario> {
  let i = 0;
  const cpuBefore = processCpuMs(server.process.pid!);
  const dbCpuBefore = clusterCpuMs(database);
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: route,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        setupRequest: (request) => {
          return { ...request, body: JSON.stringify(body(i++)) };
        },
      },
    ],
  });
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat?.count ?? 0] as const),
  );
  return {
    name,
    serverCpuMs: (processCpuMs(server.process.pid!) - cpuBefore) / Math.max(1, result.requests.total),
    databaseCpuMs: (clusterCpuMs(database) - dbCpuBefore) / Math.max(1, result.requests.total),
    okPerSecond: (statuses[String(okStatus)] ?? 0) / seconds,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

/**
 * CPU time used by the whole PostgreSQL cluster that serves `database` (on this machine): its
 * postmaster with every process it runs, and the processes it ran that have since exited
 * (a backend's time passes to its parent when it is reaped). Background work such as WAL
 * writing counts too; backends that come and go with the pool are not lost.
 */
function clusterCpuMs(database: string): number {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return [
          { pid: Number(pid), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8'), fields: statFields(Number(pid)) },
        ];
      } catch {
        return []; // gone
      }
    });
  const backend = stats.find((p) => p.cmdline.includes(` ${database} `));
  if (!backend) return 0;
  const postmaster = Number(backend.fields[1]);
  let total = 0;
  for (const p of stats) {
    if (p.pid === postmaster) total += ticksMs(p.fields, 11, 12, 13, 14);
    else if (Number(p.fields[1]) === postmaster) total += ticksMs(p.fields, 11, 12);
  }
  return total;
}

/** The fields of /proc/<pid>/stat after the command name (the state is [0], the parent pid [1]). */
function statFields(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

/** The sum of some clock-tick fields, in ms (ticks are 10 ms). */
const ticksMs = (fields: string[], ...indexes: number[]) => indexes.reduce((sum, i) => sum + Number(fields[i]) * 10, 0);

/** User + system CPU time a process has used, in ms. */
const processCpuMs = (pid: number) => ticksMs(statFields(pid), 11, 12);

function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

async function pgbench(url: string, script: string, seconds: number): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'promo-pgbench-'));
  const file = path.join(dir, 'claim.sql');
  await writeFile(file, script);
  try {
    const { stdout } = await run(
      'pgbench',
      ['-n', '-M', 'prepared', '-c', String(connections), '-j', '2', '-T', String(seconds), '-f', file, url],
      { maxBuffer: 1 << 24 },
    );
    const tps = /tps = ([\d.]+)/.exec(stdout);
    if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
    return Number(tps[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The pgbench ceiling: a conditional UPDATE of one random code row and one INSERT of a claim row. */
async function ceiling(db: pg.Client, url: string): Promise<{ minimal: number; sharedCounter: number }> {
  await db.query(`
    DROP TABLE IF EXISTS bench_codes, bench_claims, bench_counter;
    CREATE TABLE bench_codes (id bigint PRIMARY KEY, code text NOT NULL, claimed_by text);
    INSERT INTO bench_codes SELECT i, md5(i::text), NULL FROM generate_series(1, 2000000) i;
    CREATE TABLE bench_claims (id bigserial PRIMARY KEY, code_id bigint NOT NULL, customer_id text NOT NULL,
      claimed_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE bench_counter (id int PRIMARY KEY, claims bigint NOT NULL);
    INSERT INTO bench_counter VALUES (1, 0);`);
  await db.query('VACUUM ANALYZE bench_codes');
  const claim = `\\set n random(1, 2000000)
BEGIN;
UPDATE bench_codes SET claimed_by = 'c' || :n WHERE id = :n AND claimed_by IS NULL;
INSERT INTO bench_claims (code_id, customer_id) VALUES (:n, 'c' || :n);
`;
  const minimal = await pgbench(url, `${claim}END;\n`, duration);
  await db.query('UPDATE bench_codes SET claimed_by = NULL WHERE claimed_by IS NOT NULL; TRUNCATE bench_claims');
  const sharedCounter = await pgbench(
    url,
    `${claim}UPDATE bench_counter SET claims = claims + 1 WHERE id = 1;\nEND;\n`,
    duration,
  );
  await db.query('DROP TABLE bench_codes, bench_claims, bench_counter');
  return { minimal, sharedCounter };
}

const fmt = (s: Scenario) =>
  `${s.name.padEnd(34)} ${s.okPerSecond.toFixed(0).padStart(7)}/s  ` +
  `p50 ${String(s.p50).padStart(4)} ms  p99 ${String(s.p99).padStart(4)} ms  ` +
  `CPU/req server ${s.serverCpuMs.toFixed(2)} ms, database ${s.databaseCpuMs.toFixed(2)} ms  ` +
  `requests ${s.requests}  statuses ${JSON.stringify(s.statuses)}  errors ${s.errors}`;

async function main() {
  const database = await benchDatabase();
  // The claim routes' rate limits stay on, set above the load, so their cost is measured.
  const server = await startServer(database.url, {
    RATE_LIMIT_PER_MINUTE: '100000000',
    ...(process.env.BENCH_POOL ? { DATABASE_POOL_SIZE: process.env.BENCH_POOL } : {}),
  });
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  const dbName = new URL(database.url).pathname.slice(1);
  let stopped = false;
  try {
    await api(server, 'POST', '/v1/point-accounts', { key: 'spendable', name: 'Spendable' });
    await api(server, 'POST', '/v1/point-sources', { key: 'promo_code', name: 'Promo code' });
    const client = (await api(server, 'POST', '/v1/api-keys', { name: 'bench client', role: 'client' })).key as string;
    const agent = (await api(server, 'POST', '/v1/api-keys', { name: 'bench agent', role: 'agent' })).key as string;

    console.log(`loading: 3 lists × ${codesPerList} codes, 1,000,000 customers`);
    const uncapped = await singleUseList(server, db, 'bench uncapped', null);
    const capped = await singleUseList(server, db, 'bench capped', 2_000_000_000);
    const outcome = { points: { amount: 10, account: 'spendable', source: 'promo_code' }, tags: ['bench'] };
    await api(server, 'POST', '/v1/lists', {
      name: 'bench multi-use',
      type: 'multi_use',
      code: 'BENCH-MULTI',
      redemption_cap: 2_000_000_000,
      outcome,
    });
    const validateCodes = await singleUseList(server, db, 'bench validate', null);
    await db.query("INSERT INTO customers (id) SELECT 'c' || i FROM generate_series(1, 1000000) i");
    await db.query('VACUUM ANALYZE');

    const scenarios: Scenario[] = [];
    // Customers arrive in no particular order, as they do in real traffic: each scenario walks
    // its own range of ids in a shuffled order.
    const customer = (base: number) => {
      const order = shuffled(250_000);
      return (i: number) => `c${base + order[i % order.length]! + 1}`;
    };
    // A few seconds of claims first, so that the first scenario is not the one that pays for
    // the server's JIT warm-up and its pool's new connections. They claim codes from the far
    // end of the uncapped list, which the scenario does not reach.
    const warmCodes = uncapped.slice(-Math.min(WARM_UP_SECONDS * 10_000, Math.floor(uncapped.length / 10)));
    const warm = customer(750_000);
    await drive(
      server,
      dbName,
      client,
      'warm-up',
      '/v1/claims',
      (i) => ({ code: warmCodes[i % warmCodes.length], customer_id: warm(i) }),
      201,
      WARM_UP_SECONDS,
    );
    const c1 = customer(0);
    scenarios.push(
      await drive(
        server,
        dbName,
        client,
        'claim: distinct codes, uncapped',
        '/v1/claims',
        (i) => ({ code: uncapped[i % uncapped.length], customer_id: c1(i) }),
        201,
      ),
    );
    console.log(fmt(scenarios.at(-1)!));
    const c2 = customer(250_000);
    scenarios.push(
      await drive(
        server,
        dbName,
        client,
        'claim: distinct codes, capped list',
        '/v1/claims',
        (i) => ({ code: capped[i % capped.length], customer_id: c2(i) }),
        201,
      ),
    );
    console.log(fmt(scenarios.at(-1)!));
    const c3 = customer(500_000);
    scenarios.push(
      await drive(
        server,
        dbName,
        client,
        'claim: one multi-use code',
        '/v1/claims',
        (i) => ({ code: 'bench-multi', customer_id: c3(i) }),
        201,
      ),
    );
    console.log(fmt(scenarios.at(-1)!));
    const c4 = customer(750_000);
    scenarios.push(
      await drive(
        server,
        dbName,
        client,
        'validate: distinct codes',
        '/v1/claims/validate',
        (i) => ({ code: validateCodes[i % validateCodes.length], customer_id: c4(i) }),
        200,
      ),
    );
    console.log(fmt(scenarios.at(-1)!));

    console.log(`loading ${fillerCodes} more codes for the lookup`);
    const filler = await api(server, 'POST', '/v1/lists', { name: 'bench filler', type: 'third_party', outcome });
    await db.query(
      `INSERT INTO codes (code, list_id, source_id)
       SELECT upper(substr(md5(i::text), 1, 16)), $1, 0 FROM generate_series(1, $2) i ORDER BY 1
       ON CONFLICT DO NOTHING`,
      [filler.id, fillerCodes],
    );
    const stored = Number((await db.query('SELECT count(*) FROM codes')).rows[0].count);
    // Measured in a steady state: the claims above left every claim table due for autovacuum,
    // and the bulk insert left the checkpointer a few GB to write; both would otherwise run
    // during the lookups, on the same two cores.
    await db.query('VACUUM ANALYZE');
    await db
      .query('CHECKPOINT')
      .catch((error: Error) => console.log(`no CHECKPOINT before the lookups: ${error.message}`));
    const lookupCodes = [...uncapped.slice(0, 50_000), ...capped.slice(0, 50_000)];
    const lookupConnections = 4;
    const lookup = await (async () => {
      let i = 0;
      const result = await autocannon({
        url: server.url,
        connections: lookupConnections,
        duration: Math.min(duration, 10),
        requests: [
          {
            method: 'GET',
            path: '/',
            headers: { authorization: `Bearer ${agent}` },
            setupRequest: (r) => ({ ...r, path: `/v1/codes/${lookupCodes[i++ % lookupCodes.length]}` }),
          },
        ],
      });
      return {
        perSecond: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
      };
    })();
    console.log(
      `GET /v1/codes/{code}, ${stored} codes stored, ${lookupConnections} connections: ` +
        `${lookup.perSecond}/s p50 ${lookup.p50} ms p99 ${lookup.p99} ms non-2xx ${lookup.non2xx}`,
    );

    const peakRss = server.rss.peakMb();
    await server.stop();
    stopped = true;
    const ceilings = await ceiling(db, database.url);
    console.log(
      `pgbench ceiling, minimal claim transaction (${connections} clients): ${ceilings.minimal.toFixed(0)} tps; ` +
        `with one shared counter row: ${ceilings.sharedCounter.toFixed(0)} tps`,
    );

    console.log('\n## bench/claims');
    console.log(
      `machine: ${machine()}; database: ${database.kind}; ${connections} connections × ${duration} s per scenario`,
    );
    for (const s of scenarios) console.log(fmt(s));
    const base = scenarios[0]!.okPerSecond;
    console.log(
      `ratio to the pgbench ceiling: ${(base / ceilings.minimal).toFixed(2)}; ` +
        `capped/uncapped ${(scenarios[1]!.okPerSecond / base).toFixed(2)}; ` +
        `multi-use/uncapped ${(scenarios[2]!.okPerSecond / base).toFixed(2)}`,
    );
    console.log(`server peak RSS: ${peakRss.toFixed(0)} MB`);
  } finally {
    await db.end();
    if (!stopped) await server.stop();
    await database.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
