// The built dashboard is served at `/`: pages load the app with strict headers, hashed assets
// are cached for good, and API paths keep their JSON errors.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../src/dashboard/dashboard.plugin';
import { PAGES } from '../../src/dashboard/pages';
import { useTestApp } from '../support/context';

const t = useTestApp();
const html = { accept: 'text/html,application/xhtml+xml' };

describe('dashboard', () => {
  it('serves the app at / and at any of its own routes, never framed', async () => {
    // Every page of the app's list, with its parameters filled in, and a few addresses as people share them.
    const pages = Object.values(PAGES).map((page) => page.replace(':id', '42').replace('*', 'operators'));
    for (const url of [...pages, '/troubleshoot?code=ABC', '/customers/a%20b', '/settings']) {
      const page = await t.call(null, { method: 'GET', url, headers: html });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('<div id="root">');
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(page.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves every bundled asset from /assets with a long cache and nothing from elsewhere', async () => {
    const index = (await t.call(null, { method: 'GET', url: '/', headers: html })).body;
    const referenced = [...index.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1]!)
      .filter((ref) => !ref.startsWith('data:'));
    expect(referenced.length).toBeGreaterThan(0);
    for (const ref of referenced) expect(ref.startsWith('/assets/'), ref).toBe(true);
    const files = readdirSync(path.join(DASHBOARD_DIR, 'assets'));
    for (const file of files) {
      const asset = await t.call(null, { method: 'GET', url: `/assets/${file}` });
      expect(asset.statusCode, file).toBe(200);
      expect(asset.headers['cache-control']).toContain('immutable');
    }
  });

  it('keeps JSON 404s for API paths and for non-page requests', async () => {
    const api = await t.call(null, { method: 'GET', url: '/v1/no-such-thing', headers: html });
    expect(api.statusCode).toBe(404);
    expect(api.data.error.code).toBe('not_found');
    const json = await t.call(null, { method: 'GET', url: '/lists/42', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(404);
    expect(json.data.error.code).toBe('not_found');
    const elsewhere = await t.call(null, { method: 'GET', url: '/nowhere', headers: html });
    expect(elsewhere.statusCode).toBe(404);
    const missingAsset = await t.call(null, { method: 'GET', url: '/assets/nope.js' });
    expect(missingAsset.statusCode).toBe(404);
  });
});
