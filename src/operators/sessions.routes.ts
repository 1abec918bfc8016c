// The dashboard's session routes, outside /v1: sign in, who am I, sign out, change password.
// They authenticate by the session cookie only (see session-cookie.ts); the /v1 routes accept
// the same cookie through the auth hook.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import { Address6 } from 'ip-address';
import { DomainError } from '../http/errors';
import { rateLimiter, registerRateLimits } from '../http/rate-limit';
import { errorResponses } from '../http/schemas';
import { ChangePasswordBody, SessionResponse, SignInBody } from './operators.schema';
import { checkCsrf, clearSessionCookie, sessionOf, sessionToken, setSessionCookie } from './session-cookie';
import * as sessions from './sessions.service';

const tags = ['Sessions'];
const cookieAuth = 'Authenticated by the `promo_session` cookie that `POST /session` sets.';
const csrfNote =
  ' Send `X-Requested-With: promo-dashboard`; a cross-site `Origin` is refused (`403 csrf_check_failed`).';

// Sign-in attempts per minute, counted per API process: per client IP and email (guessing one
// operator's password), and per client IP alone (trying many emails).
const SIGN_INS_PER_EMAIL = 10;
const SIGN_INS_PER_IP = 100;

declare module 'fastify' {
  interface FastifyRequest {
    operatorSession: sessions.OperatorSession | null;
  }
}

/**
 * The client as the sign-in limits count it: an IPv6 host usually holds a whole /64 and could
 * otherwise take a fresh address, and a fresh allowance, for every attempt.
 */
export function clientOf(ip: string): string {
  if (!Address6.isValid(ip)) return ip;
  const address = new Address6(ip);
  if (address.is4()) return address.to4().correctForm();
  return `${new Address6(`${address.correctForm()}/64`).startAddress().correctForm()}/64`;
}

const notSignedIn = () =>
  new DomainError('unauthorized', 'not signed in, or the session has ended: sign in with POST /session');

export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ttl = app.config.sessionTtlSeconds;

  await registerRateLimits(app);
  const tooMany = (retry: number) => `too many attempts; retry in ${retry} s`;
  const limits = [
    {
      name: 'sign_ins_per_ip',
      max: SIGN_INS_PER_IP,
      key: (request: FastifyRequest) => `sign-in-ip:${clientOf(request.ip)}`,
    },
    {
      name: 'sign_ins_per_email',
      max: SIGN_INS_PER_EMAIL,
      key: (request: FastifyRequest) =>
        `sign-in:${clientOf(request.ip)}:${(request.body as { email: string }).email.trim().toLowerCase()}`,
    },
    // Guessing the current password through a stolen session is as slow as signing in.
    {
      name: 'password_changes',
      max: SIGN_INS_PER_EMAIL,
      key: (request: FastifyRequest) => `password-change:${request.operatorSession!.operator.id}`,
    },
  ].map((rule) => rateLimiter(app, [rule], tooMany));
  // Per IP before the body is read, so floods of malformed requests count; per email once it is valid.
  const limitPerIp: onRequestHookHandler = limits[0]!;
  const limitPerEmail: preHandlerHookHandler = limits[1]!;
  const limitPasswordChanges: preHandlerHookHandler = limits[2]!;

  app.decorateRequest('operatorSession', null);
  const requireSession: onRequestHookHandler = async (request) => {
    const session = await sessionOf(request);
    if (!session) throw notSignedIn();
    request.operatorSession = session;
  };

  app.post(
    '/session',
    {
      config: { rateLimited: true },
      schema: {
        operationId: 'signIn',
        tags,
        security: [],
        summary: 'Sign in to the dashboard',
        description:
          'Sets the `promo_session` cookie (HttpOnly, SameSite=Strict). A wrong email or password, or a disabled ' +
          'operator, is `401 invalid_credentials`. ' +
          `At most ${SIGN_INS_PER_EMAIL} attempts per minute per client and email.`,
        body: SignInBody,
        response: { 200: SessionResponse, ...errorResponses('invalid_credentials') },
      },
      onRequest: limitPerIp,
      preHandler: limitPerEmail,
    },
    async (request, reply) => {
      const { token, operator } = await sessions.signIn(app.pool, request.body, ttl);
      // The session this browser held before, if any, ends: one browser, one live session.
      const previous = sessionToken(request);
      if (previous) await sessions.signOut(app.pool, previous);
      setSessionCookie(request, reply, token);
      return { operator };
    },
  );

  app.get(
    '/session',
    {
      schema: {
        operationId: 'getSession',
        tags,
        security: [],
        summary: 'The signed-in operator',
        description: cookieAuth,
        response: { 200: SessionResponse, ...errorResponses('unauthorized') },
      },
      onRequest: requireSession,
    },
    async (request) => ({ operator: request.operatorSession!.operator }),
  );

  app.delete(
    '/session',
    {
      schema: {
        operationId: 'signOut',
        tags,
        security: [],
        summary: 'Sign out: ends the session and clears the cookie',
        description: `${cookieAuth + csrfNote} Answers 204 even when there was no session.`,
        response: { 204: Type.Null(), ...errorResponses('csrf_check_failed') },
      },
    },
    async (request, reply) => {
      const token = sessionToken(request);
      if (token) {
        checkCsrf(request);
        await sessions.signOut(app.pool, token);
      }
      clearSessionCookie(request, reply);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/session/password',
    {
      config: { rateLimited: true },
      schema: {
        operationId: 'changePassword',
        tags,
        security: [],
        summary: "Change the signed-in operator's password",
        description:
          cookieAuth +
          csrfNote +
          " Clears `must_change_password` and ends the operator's other sessions. " +
          'A wrong current password is `401 invalid_credentials`; ' +
          'a new one shorter than 12 characters or equal to the current one is `400 validation_failed`.',
        body: ChangePasswordBody,
        response: {
          200: SessionResponse,
          ...errorResponses('unauthorized', 'invalid_credentials', 'csrf_check_failed'),
        },
      },
      onRequest: requireSession,
      preHandler: limitPasswordChanges,
    },
    async (request) => ({
      operator: await sessions.changePassword(app.pool, request.operatorSession!, request.body, String(request.id)),
    }),
  );
};
