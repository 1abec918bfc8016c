// Process entry: configuration, database (embedded or DATABASE_URL), migrations, then the
// HTTP API and/or the job worker, and an orderly shutdown on SIGTERM/SIGINT.
import pino from 'pino';
import { buildApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createPool } from './db/pool';
import { migrate } from './db/migrate';
import { seedDemoCatalog } from './db/seed';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded';
import { ensureBootstrapAdminKey } from './auth/api-keys.service';
import { ensureFirstAdmin } from './operators/operators.service';
import { migrateQueue, startWorker, type Worker } from './jobs/queue';
import { createMailer } from './notify/mailer';
import { SCHEDULE, buildTaskList } from './jobs/tasks';

async function main(): Promise<void> {
  let config;
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

  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    log.info({ dataDir: config.dataDir }, 'starting embedded PostgreSQL');
    const pgLog = log.child({ component: 'postgres' });
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log: (line) => pgLog.debug(line) });
    databaseUrl = embedded.url;
  }

  const pool = createPool(databaseUrl, config.databasePoolSize);
  const applied = await migrate(pool);
  if (applied.length) log.info({ applied }, 'database migrated');
  await migrateQueue(pool);
  if (config.seedDemo && (await seedDemoCatalog(pool))) log.info('seeded a demo catalog');
  if (config.adminApiKey) await ensureBootstrapAdminKey(pool, config.adminApiKey);
  // On a database that never had an operator, one API process makes the first admin.
  const firstAdmin = config.role === 'worker' ? null : await ensureFirstAdmin(pool, config.adminEmail);

  const app = config.role === 'worker' ? null : await buildApp({ config, pool, logger: log });
  let runner: Worker | null = null;
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir, log });
  if (config.role !== 'api') {
    const workerLog = log.child({ component: 'worker' });
    runner = await startWorker(pool, workerLog, buildTaskList({ pool, config, log: workerLog, mailer }), config.workerConcurrency, config.workerDeadAfterSeconds, SCHEDULE);
  }
  if (app) {
    const address = await app.listen({ port: config.port, host: config.host });
    log.info(`promo codes service listening on ${address} (API docs at ${config.publicUrl}/docs)`);
    // console.log, not the logger: shown once, whatever LOG_LEVEL says.
    if (firstAdmin) console.log(firstAdminNotice(config.publicUrl, firstAdmin));
  }
  log.info({ role: config.role, database: embedded ? 'embedded' : 'DATABASE_URL' }, 'ready');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000);
    force.unref();
    try {
      if (app) {
        app.shuttingDown = true;
        await app.close(); // stops accepting, waits for in-flight requests
      }
      await runner?.stop(); // running jobs finish or, if long, stop at a safe point and are retried
      mailer.close();
      await pool.end();
      await embedded?.stop();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
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
