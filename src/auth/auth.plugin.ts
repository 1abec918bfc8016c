// Authentication and role checks for every /v1 route. Each route states the least role it
// needs in `config.access`; a /v1 route that states none fails the app at start-up, so no
// route is ever open by omission. Callers are API keys (Authorization: Bearer) or dashboard
// operators (the session cookie, operators/session-cookie.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../http/errors';
import type { AuditContext } from '../audit/audit.service';
import { authenticateKey } from './api-keys.service';
import { sessionOf } from '../operators/session-cookie';
import { actorOf, allows, type Access, type Principal } from './roles';

/** One /v1 route and the least role it needs; the role-matrix test walks this table. */
export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

declare module 'fastify' {
  interface FastifyInstance {
    accessTable: RouteAccess[];
  }
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const unauthorized = () =>
  new DomainError(
    'unauthorized',
    'missing or unknown credentials: send Authorization: Bearer <api key>, or sign in to the dashboard',
    undefined,
    {
      'WWW-Authenticate': 'Bearer',
    },
  );

const passwordChangeRequired = () =>
  new DomainError(
    'password_change_required',
    'choose a new password first (POST /session/password): this one was given to you once',
  );

export function registerAuth(app: FastifyInstance): void {
  app.decorateRequest('principal', null);
  app.decorate('accessTable', [] as RouteAccess[]);

  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const access = route.config?.access;
    if (access === undefined) throw new Error(`route ${route.method} ${route.url} declares no access role`);
    for (const method of [route.method].flat()) app.accessTable.push({ method, url: route.url, access });
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    const principal = await resolvePrincipal(app, request);
    if (!principal) throw unauthorized();
    if (!allows(principal.role, access)) {
      throw new DomainError(
        'forbidden',
        `this needs the ${access} role; your ${principal.kind.replace('_', ' ')} has ${principal.role}`,
      );
    }
    request.principal = principal;
  });
}

// An Authorization header decides alone, even when a cookie comes along: API clients are
// never subject to the dashboard's CSRF and password rules. Without one, the dashboard's
// session cookie authenticates, for operators who have chosen their own password, on requests
// that pass the CSRF check.
async function resolvePrincipal(app: FastifyInstance, request: FastifyRequest): Promise<Principal | null> {
  const header = request.headers.authorization;
  if (!header) return resolveSession(request);
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || match[1]!.length > 256) return null;
  return authenticateKey(app.pool, match[1]!);
}

async function resolveSession(request: FastifyRequest): Promise<Principal | null> {
  const session = await sessionOf(request);
  if (!session) return null;
  if (session.operator.must_change_password) throw passwordChangeRequired();
  return session.principal;
}

/** Who is acting, for the audit log. Only called on routes that require a role. */
export function auditContext(request: FastifyRequest): AuditContext {
  if (!request.principal) throw new Error('auditContext called on an unauthenticated route');
  return { actor: actorOf(request.principal), requestId: String(request.id) };
}
