// Liveness, readiness and Prometheus metrics. Open to anyone: they reveal no data.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import client from 'prom-client';
import { collectProcessMetrics, processRegistry, registerDatabaseFigures } from './metrics';

export const opsRoutes: FastifyPluginAsync = async (app) => {
  const registry = new client.Registry();
  collectProcessMetrics(registry);
  const requests = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new client.Gauge({
    name: 'db_pool_connections',
    help: 'Open database connections of this process by state (in_use, idle)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'in_use' }, app.pool.totalCount - app.pool.idleCount);
      this.set({ state: 'idle' }, app.pool.idleCount);
    },
  });
  new client.Gauge({
    name: 'db_pool_max_connections',
    help: 'Most database connections this process opens (DATABASE_POOL_SIZE)',
    registers: [registry],
    collect() {
      this.set(app.pool.options.max ?? 10);
    },
  });
  new client.Gauge({
    name: 'db_pool_waiting_requests',
    help: 'Queries of this process waiting for a free database connection',
    registers: [registry],
    collect() {
      this.set(app.pool.waitingCount);
    },
  });
  registerDatabaseFigures(registry, app.pool);

  // Claims and validations in batches (claims/batcher.ts): batch sizes are elements/batches.
  const batchCounters = {
    claim_batches_total: [
      'Claim and validate batches sent to the database (a lone request is a batch of one)',
      'batches',
    ],
    claim_batch_elements_total: ['Claims and validations sent in batches', 'elements'],
    claim_batch_fallbacks_total: ['Batches that failed as a whole and were run one element at a time', 'fallbacks'],
  } as const;
  for (const [name, [help, stat]] of Object.entries(batchCounters)) {
    new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(app.claimBatcher.stats[stat]);
      },
    });
  }

  // The job worker of this process (ROLE=worker or all), supervised by jobs/queue.ts.
  new client.Gauge({
    name: 'worker_slots',
    help: 'Job worker slots of this process: wanted, and running (taking jobs)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const state = app.worker?.state();
      this.set({ state: 'wanted' }, state?.slots ?? 0);
      this.set({ state: 'running' }, state?.running ?? 0);
    },
  });
  new client.Counter({
    name: 'worker_slot_restarts_total',
    help: 'Job worker slots started again after they ended unexpectedly (a lost database connection)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(app.worker?.state().restarts ?? 0);
    },
  });

  // While shutting down, a keep-alive connection is closed once its request is answered, so
  // that clients (and load balancers) move to another node instead of reusing it.
  app.addHook('onSend', async (_request, reply) => {
    if (app.shuttingDown) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps the label set small.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const Health = Type.Object({ status: Type.String() });
  const READY_TIMEOUT_MS = 2000;
  const hidden = { hide: true };

  app.get('/healthz', { config: { access: 'public' }, schema: { ...hidden, response: { 200: Health } } }, async () => ({
    status: 'ok',
  }));

  // Ready: not shutting down, the database answers, and (where this process runs jobs) every
  // worker slot is up. A slot that ended is being started again; until then jobs run slower or
  // not at all, which an orchestrator should see.
  app.get(
    '/readyz',
    { config: { access: 'public' }, schema: { ...hidden, response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      if (app.shuttingDown) return reply.status(503).send({ status: 'shutting_down' });
      // A database that does not answer in time is as unavailable as one that refuses.
      let timer: NodeJS.Timeout | undefined;
      const answered = await Promise.race([
        app.pool.query('SELECT 1').then(
          () => true,
          () => false,
        ),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (!answered) return reply.status(503).send({ status: 'database_unavailable' });
      const worker = app.worker?.state();
      if (worker && worker.running < worker.slots) return reply.status(503).send({ status: 'worker_down' });
      return { status: 'ready' };
    },
  );

  const scraped = client.Registry.merge([registry, processRegistry]);
  app.get('/metrics', { config: { access: 'public' }, schema: hidden }, async (_request, reply) => {
    reply.header('content-type', scraped.contentType);
    return scraped.metrics();
  });
};

// The request-duration hook must see every route of the app, not only the three above, so
// this plugin is not encapsulated (what fastify-plugin does). Register it before the others.
Object.assign(opsRoutes, { [Symbol.for('skip-override')]: true });
