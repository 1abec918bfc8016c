// Process entry: configuration, database (embedded or DATABASE_URL), migrations, then the
// HTTP API and/or the job worker, and an orderly shutdown on SIGTERM/SIGINT.
import pino, { type Logger } from 'pino';
import { buildApp } from './app';
import { type Config, ConfigError, loadConfig } from './config';
import { isDatabaseUnavailable } from './db/errors';
import { createPool, type Pool } from './db/pool';
import { migrate } from './db/migrate';
import { seedDemoCatalog } from './db/seed';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded';
import { ensureBootstrapAdminKey } from './auth/api-keys.service';
import { ensureFirstAdmin } from './operators/operators.service';
import { migrateQueue, startWorker, type Worker } from './jobs/queue';
import { configuredMailer } from './notify/mailer';
import { SCHEDULE, buildTaskList } from './jobs/tasks';

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const log = pino({ level: config.logLevel });
  // graphile-worker 0.16 leaves a promise of its cron unhandled when a query fails while the
  // database is away; Node would end the process for it. Such a rejection is logged (the
  // supervised slot starts again); any other still ends the process, as by default.
  process.on('unhandledRejection', (reason) => {
    if (!isDatabaseUnavailable(reason)) throw reason;
    log.warn({ err: reason }, 'database unavailable (a rejection nothing handled)');
  });

  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    log.info({ dataDir: config.dataDir }, 'starting embedded PostgreSQL');
    const pgLog = log.child({ component: 'postgres' });
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPgPort,
      log: (line) => pgLog.debug(line),
    });
    databaseUrl = embedded.url;
  }

  const pool = createPool(databaseUrl, config.databasePoolSize);
  await waitForDatabase(pool, log);
  const applied = await migrate(pool);
  if (applied.length) log.info({ applied }, 'database migrated');
  await migrateQueue(pool);
  if (config.seedDemo && (await seedDemoCatalog(pool))) log.info('seeded a demo catalog');
  if (config.adminApiKey) await ensureBootstrapAdminKey(pool, config.adminApiKey);
  // On a database that never had an operator, one API process makes the first admin.
  const firstAdmin = config.role === 'worker' ? null : await ensureFirstAdmin(pool, config.adminEmail);

  // Every role serves HTTP: the API and dashboard (api, all) or only /healthz, /readyz and
  // /metrics (worker), so that a load balancer or orchestrator can watch any process.
  const app = await buildApp({ config, pool, logger: log });
  let runner: Worker | null = null;
  const mailer = configuredMailer(config, log);
  if (config.role !== 'api') {
    const workerLog = log.child({ component: 'worker' });
    runner = await startWorker(pool, workerLog, buildTaskList({ pool, config, log: workerLog, mailer }), {
      concurrency: config.workerConcurrency,
      deadAfterSeconds: config.workerDeadAfterSeconds,
      schedule: SCHEDULE,
      // At shutdown a batch or import stops after the chunk in flight and is handed back, to be
      // resumed by another worker: waiting for a job of millions of codes would only delay that.
      shutdownAbortMs: 0,
    });
    app.worker = runner;
  }
  const address = await app.listen({ port: config.port, host: config.host });
  if (config.role === 'worker')
    log.info(`promo codes worker listening on ${address} for /healthz, /readyz and /metrics`);
  else log.info(`promo codes service listening on ${address} (API docs at ${config.publicUrl}/docs)`);
  // console.log, not the logger: shown once, whatever LOG_LEVEL says.
  if (firstAdmin) console.log(firstAdminNotice(config.publicUrl, firstAdmin));
  log.info({ role: config.role, database: embedded ? 'embedded' : 'DATABASE_URL' }, 'ready');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // SHUTDOWN_TIMEOUT_MS bounds the whole sequence. Requests and jobs get it less a second
    // kept for closing the pool and the embedded database; then whatever still runs is cut.
    const started = Date.now();
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    const drainMs = Math.max(0, config.shutdownTimeoutMs - 1000);
    try {
      app.shuttingDown = true; // /readyz answers 503 and new requests are refused from here
      const closing = app.close(); // stops accepting and closes idle connections; waits for in-flight requests
      // A connection busy when closing began is closed once its request is answered (the answer
      // says `connection: close`, ops.routes.ts); one whose client keeps it open anyway is
      // closed as soon as it is idle, not after the keep-alive timeout.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      sweep.unref();
      const cut = setTimeout(() => {
        log.warn('requests or jobs still running at the shutdown deadline; closing connections and handing jobs back');
        app.server.closeAllConnections();
        runner
          ?.handBackRunning()
          .catch((error: unknown) => log.warn({ err: error }, 'could not hand the running jobs back'));
      }, drainMs);
      cut.unref();
      // Running jobs finish or, once asked to stop, are handed back at a safe point.
      await Promise.all([closing, runner?.stop()]);
      clearTimeout(cut);
      clearInterval(sweep);
      mailer.close();
      await pool.end();
      await embedded?.stop();
      log.info({ ms: Date.now() - started }, 'stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Waits for the database at start (it may be starting too, or failing over): connection errors
 * are retried with backoff; any other error (bad password, no such database) stops the start.
 */
async function waitForDatabase(pool: Pool, log: Logger): Promise<void> {
  for (let wait = 500; ; wait = Math.min(wait * 2, 10_000)) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      log.warn({ err: error, retryInMs: wait }, 'database unavailable; waiting for it');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function firstAdminNotice(publicUrl: string, login: { email: string; password: string }): string {
  return [
    '',
    `Dashboard login: ${publicUrl}/`,
    `  email:    ${login.email}`,
    `  password: ${login.password}`,
    '  This one-time password must be changed at first login. It is not shown again.',
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error('failed to start:', error);
  process.exit(1);
});
