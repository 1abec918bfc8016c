// Builds the Fastify app: plugins, error model, auth, and every feature's routes.
// The server process and the tests both build it here.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Pool } from './db/pool';
import type { Worker } from './jobs/queue';
import {
  clientErrorHandler,
  frameworkErrors,
  refuseWhileShuttingDown,
  registerErrorHandling,
  requireHostHeader,
} from './http/errors';
import { registerIdempotency } from './http/idempotency';
import { openApiTransforms, registerErrorContract } from './http/openapi';
import { ErrorDetails } from './http/schemas';
import { validatorCompiler } from './http/validation';
import { registerAuth } from './auth/auth.plugin';
import { apiKeyRoutes } from './auth/api-keys.routes';
import { operatorRoutes } from './operators/operators.routes';
import { sessionRoutes } from './operators/sessions.routes';
import { SESSION_COOKIE } from './operators/session-cookie';
import { auditRoutes } from './audit/audit.routes';
import { catalogRoutes } from './catalog/catalog.routes';
import { customerRoutes } from './customers/customers.routes';
import { listRoutes } from './lists/lists.routes';
import { batchRoutes } from './codes/batches.routes';
import { codeRoutes } from './codes/codes.routes';
import { importRoutes } from './codes/imports.routes';
import { opsRoutes } from './ops/ops.routes';
import { claimRoutes } from './claims/claims.routes';
import { ClaimBatcher } from './claims/batcher';
import { lockoutRules } from './claims/claims.service';
import { settingsRoutes } from './settings/settings.routes';
import { troubleshootRoutes } from './troubleshoot/troubleshoot.routes';
import { webhookRoutes } from './webhooks/webhooks.routes';
import { dashboard } from './dashboard/dashboard.plugin';

declare module 'fastify' {
  interface FastifyInstance {
    pool: Pool;
    config: Readonly<Config>;
    shuttingDown: boolean;
    /** Claims and validations without an Idempotency-Key go through it (claims/batcher.ts). */
    claimBatcher: ClaimBatcher;
    /** The job worker of this process, when it runs one (ROLE=worker or all); read by /readyz and /metrics. */
    worker: Worker | null;
  }
}

export interface AppOptions {
  config: Readonly<Config>;
  pool: Pool;
  logger: Logger;
}

const REQUEST_ID = /^[\w.-]{1,64}$/;

export async function buildApp({ config, pool, logger }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    // A caller's X-Request-Id is kept when it is sane; otherwise each request gets a new one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    routerOptions: { maxParamLength: 512 },
    // The 503 while closing, what the HTTP parser refuses and a missing Host are answered in
    // the service's error shape, not Fastify's or Node's (http/errors.ts).
    return503OnClosing: false,
    clientErrorHandler,
    http: { requireHostHeader: false },
    // Behind N reverse proxies, the client's address is read from X-Forwarded-For, so that the
    // per-IP limits count clients and not the proxy.
    trustProxy: config.trustProxyHops ? (_address: string, hop: number) => hop < config.trustProxyHops : false,
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('pool', pool);
  app.decorate('config', config);
  app.decorate('shuttingDown', false);
  app.decorate('worker', null);
  app.decorate(
    'claimBatcher',
    new ClaimBatcher(pool, lockoutRules(config), { lanes: config.claimBatchLanes, maxSize: config.claimBatchSize }),
  );
  app.setValidatorCompiler(validatorCompiler);
  app.addSchema(ErrorDetails);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  registerErrorHandling(app);
  refuseWhileShuttingDown(app);
  requireHostHeader(app);
  // Before the auth hook: a browser's preflight carries no credentials and is answered here.
  // Without CORS_ORIGINS no origin is allowed, and the preflight says so by its missing
  // Access-Control-Allow-Origin. The dashboard is same-origin and needs none of this.
  await app.register(cors, {
    origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
    strictPreflight: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: [
      'content-disposition',
      'idempotent-replayed',
      'location',
      'retry-after',
      'x-request-id',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
    ],
    maxAge: 600,
  });
  // Before the auth hook, so that the session cookie is parsed by the time it is read.
  await app.register(cookie);
  registerAuth(app);
  // Before any route is added: it wraps every write handler under /v1 as the route is added.
  registerIdempotency(app);
  registerErrorContract(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Promo Codes API',
        version: '1',
        description:
          'Promo code lists, batches, claims and the tools to run them. ' +
          'Authenticate with `Authorization: Bearer <api key>`; ' +
          'the dashboard authenticates with its session cookie instead.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: config.publicUrl, description: 'this service (PUBLIC_URL)' }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'an API key, created with POST /v1/api-keys or ADMIN_API_KEY',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description:
              'the dashboard session set by POST /session; changes also need `X-Requested-With: promo-dashboard`',
          },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    ...openApiTransforms(),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });

  await app.register(opsRoutes);
  // A worker-only process serves the ops routes alone.
  if (config.role === 'worker') return app;
  await app.register(apiKeyRoutes);
  await app.register(operatorRoutes);
  await app.register(sessionRoutes);
  await app.register(auditRoutes);
  await app.register(catalogRoutes);
  await app.register(customerRoutes);
  await app.register(listRoutes);
  await app.register(batchRoutes);
  await app.register(importRoutes);
  await app.register(codeRoutes);
  await app.register(claimRoutes);
  await app.register(settingsRoutes);
  await app.register(troubleshootRoutes);
  await app.register(webhookRoutes);
  await app.register(dashboard);
  return app;
}
