// Serves the dashboard (web/, built by Vite into web/dist) at `/`. Hashed assets are cached for
// a year; every other GET that asks for HTML gets index.html, so the browser's routes
// (/lists/42, /troubleshoot…) load the app. API paths keep their JSON 404s.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

// The app is bundled and same-origin only; it is never framed.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

const NOT_BUILT = `<!doctype html><title>Promo Codes</title><h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> (npm start does it for you) and reload this page. The API is available under <a href="/docs">/docs</a>.</p>`;

const API_PATH = /^\/(v1|docs|session|healthz|readyz|metrics)(\/|$|\?)/;

export async function dashboard(app: FastifyInstance, options: { dir?: string } = {}): Promise<void> {
  const dir = options.dir ?? DASHBOARD_DIR;
  const indexFile = path.join(dir, 'index.html');
  const built = existsSync(indexFile);
  const index = built ? readFileSync(indexFile) : Buffer.from(NOT_BUILT);

  if (built && existsSync(path.join(dir, 'assets'))) {
    await app.register(fastifyStatic, {
      root: path.join(dir, 'assets'),
      prefix: '/assets/',
      immutable: true,
      maxAge: '365d',
      index: false,
      schemaHide: true,
    });
  }

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const wantsPage = request.headers.accept?.includes('text/html') ?? false;
    if (!wantsPage || API_PATH.test(request.url)) return reply.callNotFound();
    return reply.status(built ? 200 : 503).headers(PAGE_HEADERS).send(index);
  });
}
