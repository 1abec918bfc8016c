// Serves the dashboard (web/, built by Vite into web/dist) at `/`. Hashed assets are cached for
// a year; the app's own paths (PAGES in ./pages.ts: /lists/42, /troubleshoot…) answer index.html
// to a browser, so a reload or a shared link opens the right view. Every other path keeps the
// API's JSON errors.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PAGES } from './pages';

export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

// The app is bundled and same-origin only; it is never framed.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy': [
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

const NOT_BUILT = `<!doctype html><title>Promo Codes</title><h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> (npm start does it for you) and reload this page.
The API is available under <a href="/docs">/docs</a>.</p>`;

/**
 * The paths that serve the page, in Fastify's terms: each page's first segment, and everything
 * under it when a page there has more (`/lists/:id` → `/lists` and `/lists/*`). Only these do.
 */
function servedPaths(): string[] {
  const served = new Set<string>();
  for (const page of Object.values(PAGES)) {
    const [first = '', ...rest] = page.split('/').filter(Boolean);
    served.add(`/${first}`);
    if (rest.length > 0) served.add(`/${first}/*`);
  }
  return [...served];
}

export async function dashboard(app: FastifyInstance, options: { dir?: string } = {}): Promise<void> {
  const dir = options.dir ?? DASHBOARD_DIR;
  const indexFile = path.join(dir, 'index.html');
  // Assets are served from whatever the folder holds now, and the page is read per request, so
  // a rebuild is picked up without a restart.
  await app.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/assets/',
    immutable: true,
    maxAge: '365d',
    index: false,
    schemaHide: true,
  });

  for (const url of servedPaths()) {
    app.get(url, { schema: { hide: true } }, async (request, reply) => {
      if (!request.headers.accept?.includes('text/html')) return reply.callNotFound();
      const page = await readFile(indexFile).catch(() => null);
      return reply
        .status(page ? 200 : 503)
        .headers(PAGE_HEADERS)
        .send(page ?? NOT_BUILT);
    });
  }
}
