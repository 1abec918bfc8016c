// The session cookie and the CSRF rule for requests that it authenticates.
//
// The cookie is HttpOnly (scripts cannot read it) and SameSite=Strict (browsers do not send
// it on requests started by other sites). As a second, independent guard, a cookie-
// authenticated request that changes something must carry `X-Requested-With:
// promo-dashboard`, a header a cross-site form cannot set and a cross-site script can only
// set after a CORS preflight this service never grants, and, when the browser sends an
// Origin, come from this service's own host.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../http/errors';
import { findSession, type OperatorSession } from './sessions.service';

export const SESSION_COOKIE = 'promo_session';
const CSRF_HEADER = 'x-requested-with';
const CSRF_HEADER_VALUE = 'promo-dashboard';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session token the request carries, if any. */
export function sessionToken(request: FastifyRequest): string | null {
  // @fastify/cookie has parsed the header: app.ts registers it before the auth hook.
  return request.cookies[SESSION_COOKIE] || null;
}

/**
 * The live session the request's cookie names, once the request has passed the CSRF check;
 * null when it names none. The auth hook and the session routes both start here.
 */
export async function sessionOf(request: FastifyRequest): Promise<OperatorSession | null> {
  const token = sessionToken(request);
  const session = token ? await findSession(request.server.pool, token, request.server.config.sessionTtlSeconds) : null;
  if (session) checkCsrf(request);
  return session;
}

function secure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.server.config.publicUrl.startsWith('https:');
}

/** No Max-Age: a browser session cookie; the server ends the session after SESSION_TTL idle. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(request) });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(request) });
}

const csrfFailed = (why: string) =>
  new DomainError(
    'csrf_check_failed',
    `${why}: dashboard requests that change something must send X-Requested-With: ${CSRF_HEADER_VALUE} from this site`,
  );

function hostOf(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** Throws 403 csrf_check_failed unless a cookie-authenticated request is safe or same-site. */
export function checkCsrf(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (request.headers[CSRF_HEADER] !== CSRF_HEADER_VALUE) throw csrfFailed(`missing X-Requested-With header`);
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const from = hostOf(origin);
  // Host compared as the origin's scheme would write it (so `localhost:80` = `localhost`);
  // PUBLIC_URL's host is accepted too, for a proxy that rewrites Host.
  const scheme = origin.startsWith('https:') ? 'https:' : 'http:';
  const allowed = [request.headers.host, request.server.config.publicUrl]
    .filter((h): h is string => Boolean(h))
    .map((h) => hostOf(h.includes('://') ? h : `${scheme}//${h}`));
  if (!from || !allowed.includes(from)) throw csrfFailed('the request comes from another site');
}
