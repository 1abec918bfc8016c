// bench/generate — codes at scale, measured end to end through the HTTP API of the real server:
//   1M codes request→active, against the bare-insert ceiling measured on the same database in
//   the same run; 1M-code exports as .csv and .xlsx; a 1M-line import; the server's peak RSS.
// Usage: npm run bench:generate [-- --runs 3 --count 1000000]   (DATABASE_URL to use a server)
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import { DEFAULT_FORMAT } from '../src/codes/format';
import { generateRows } from '../src/codes/generator';
import { api, argument, benchDatabase, machine, median, sleep, startServer, type RunningServer } from './support';

const runs = argument('runs', 3);
const count = argument('count', 1_000_000);

interface Run {
  generateS: number;
  generateRssMb: number;
  ceilingSortedS: number;
  ceilingRandomS: number;
  csvS: number;
  csvRssMb: number;
  csvBytes: number;
  xlsxS: number;
  xlsxRssMb: number;
  xlsxBytes: number;
  importS: number;
  importRssMb: number;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, (performance.now() - start) / 1000];
}

async function waitFor(server: RunningServer, route: string): Promise<any> {
  for (;;) {
    const item = await api(server, 'GET', route);
    if (item.status === 'active') return item;
    if (item.status === 'failed') throw new Error(`${route} failed: ${item.error}`);
    await sleep(20);
  }
}

async function download(server: RunningServer, route: string): Promise<number> {
  const res = await fetch(`${server.url}${route}`, { headers: { authorization: `Bearer ${server.key}` } });
  if (!res.ok) throw new Error(`${route} → ${res.status}`);
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  return bytes;
}

/** The ceiling: one INSERT … SELECT of `count` pre-made codes into a bare two-column table. */
async function ceiling(db: pg.Client, order: 'code' | 'ord'): Promise<number> {
  await db.query('DROP TABLE IF EXISTS bench_bare; CREATE TABLE bench_bare (code text PRIMARY KEY, list_id bigint)');
  await db.query('CHECKPOINT');
  const [, seconds] = await timed(() =>
    db.query(`INSERT INTO bench_bare SELECT code, 1 FROM bench_premade ORDER BY ${order}`),
  );
  await db.query('DROP TABLE bench_bare');
  return seconds;
}

function importBody(lines: number): Readable {
  const alphabet = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
  return Readable.from(
    (function* () {
      for (let done = 0; done < lines; done += 10_000) {
        const bytes = randomBytes(10_000 * 12);
        let text = '';
        for (let i = 0; i < Math.min(10_000, lines - done); i++) {
          let code = 'TP';
          for (let j = 0; j < 12; j++) code += alphabet[bytes[i * 12 + j]! % alphabet.length];
          text += `${code}\n`;
        }
        yield Buffer.from(text);
      }
    })(),
  );
}

async function oneRun(server: RunningServer, db: pg.Client, run: number): Promise<Run> {
  const list = await api(server, 'POST', '/v1/lists', {
    name: `bench ${run}`,
    type: 'single_use',
    outcome: { tags: ['bench'] },
  });
  await db.query('CHECKPOINT');
  server.rss.reset();
  const [batch, generateS] = await timed(async () => {
    const created = await api(server, 'POST', `/v1/lists/${list.id}/batches`, { count });
    return waitFor(server, `/v1/batches/${created.id}`);
  });
  const generateRssMb = server.rss.peakMb();
  if (batch.generated !== count) throw new Error(`batch made ${batch.generated} codes, not ${count}`);

  const ceilingSortedS = await ceiling(db, 'code');
  const ceilingRandomS = await ceiling(db, 'ord');

  server.rss.reset();
  const [csvBytes, csvS] = await timed(() => download(server, `/v1/batches/${batch.id}/export?format=csv`));
  const csvRssMb = server.rss.peakMb();
  server.rss.reset();
  const [xlsxBytes, xlsxS] = await timed(() => download(server, `/v1/batches/${batch.id}/export?format=xlsx`));
  const xlsxRssMb = server.rss.peakMb();

  const third = await api(server, 'POST', '/v1/lists', {
    name: `bench import ${run}`,
    type: 'third_party',
    outcome: { tags: ['bench'] },
  });
  await db.query('CHECKPOINT');
  server.rss.reset();
  const [imported, importS] = await timed(async () => {
    const res = await fetch(`${server.url}/v1/lists/${third.id}/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'text/plain' },
      body: importBody(count) as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const created = (await res.json()) as any;
    if (res.status !== 202) throw new Error(`import → ${res.status} ${JSON.stringify(created)}`);
    return waitFor(server, `/v1/imports/${created.id}`);
  });
  const importRssMb = server.rss.peakMb();
  if (imported.accepted + imported.rejected !== count)
    throw new Error(`import counted ${imported.accepted + imported.rejected} lines`);

  return {
    generateS,
    generateRssMb,
    ceilingSortedS,
    ceilingRandomS,
    csvS,
    csvRssMb,
    csvBytes,
    xlsxS,
    xlsxRssMb,
    xlsxBytes,
    importS,
    importRssMb,
  };
}

async function main() {
  const database = await benchDatabase();
  const server = await startServer(database.url, { MAX_CODES_PER_REQUEST: String(Math.max(count, 1_000_000)) });
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    // The ceiling's input: `count` distinct pre-made codes in random order, made once.
    const { rows } = generateRows({ ...DEFAULT_FORMAT, prefix: 'CEIL' }, count);
    await db.query(
      'CREATE UNLOGGED TABLE bench_premade AS SELECT DISTINCT c AS code, random() AS ord FROM unnest($1::text[]) AS c',
      [rows.toString('latin1').trimEnd().split('\n')],
    );

    const results: Run[] = [];
    for (let run = 1; run <= runs; run++) {
      const result = await oneRun(server, db, run);
      results.push(result);
      console.log(
        `run ${run}:`,
        JSON.stringify(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, Math.round(v * 100) / 100]))),
      );
    }
    const m = (key: keyof Run) => median(results.map((r) => r[key]));
    const f = (n: number, digits = 2) => n.toFixed(digits);
    console.log(`\n### bench/generate — ${new Date().toISOString().slice(0, 10)}\n`);
    console.log(
      `Machine: ${machine()}; ${database.kind}. ` +
        `Command: \`npm run bench:generate -- --runs ${runs} --count ${count}\`. Median of ${runs} runs.\n`,
    );
    console.log('| measure | median | target |');
    console.log('|---|---|---|');
    console.log(
      `| ${count.toLocaleString('en-US')} codes, request → active (HTTP API) | ${f(m('generateS'))} s | ≤ 5 s |`,
    );
    console.log(`| bare-insert ceiling, sorted input | ${f(m('ceilingSortedS'))} s | |`);
    console.log(`| bare-insert ceiling, random order | ${f(m('ceilingRandomS'))} s | |`);
    console.log(`| ratio to the sorted ceiling | ${f(m('generateS') / m('ceilingSortedS'))} × | ≤ 1.5 × |`);
    console.log(`| server peak RSS while generating | ${f(m('generateRssMb'), 0)} MB | |`);
    console.log(
      `| export .csv (${f(m('csvBytes') / 2 ** 20, 1)} MiB) | ` +
        `${f(m('csvS'))} s, peak RSS ${f(m('csvRssMb'), 0)} MB | ≤ 4 s, ≤ 350 MB |`,
    );
    console.log(
      `| export .xlsx (${f(m('xlsxBytes') / 2 ** 20, 1)} MiB) | ` +
        `${f(m('xlsxS'))} s, peak RSS ${f(m('xlsxRssMb'), 0)} MB | ≤ 10 s, ≤ 350 MB |`,
    );
    console.log(
      `| import of ${count.toLocaleString('en-US')} lines, upload → active | ` +
        `${f(m('importS'))} s, peak RSS ${f(m('importRssMb'), 0)} MB | ≤ 15 s |`,
    );
  } finally {
    await db.end();
    await server.stop();
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
