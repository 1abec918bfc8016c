// Health, readiness, metrics and the API documentation: open to anyone, no key needed.
import { describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { useTestApp } from '../support/context';

const t = useTestApp();

/** GET without credentials, following redirects within the app. */
async function get(url: string, hops = 5) {
  let res = await t.call(null, { method: 'GET', url } as InjectOptions);
  for (let i = 0; i < hops && res.statusCode >= 300 && res.statusCode < 400; i++) {
    const location = String(res.headers.location);
    res = await t.call(null, { method: 'GET', url: new URL(location, `http://localhost${url}`).pathname });
  }
  return res;
}

describe('health', () => {
  it('/healthz answers 200', async () => {
    const res = await get('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.data).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 ready while the database answers', async () => {
    const res = await get('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.data).toEqual({ status: 'ready' });
  });
});

describe('metrics', () => {
  it('/metrics is Prometheus text with request durations and process metrics', async () => {
    await get('/healthz');
    await t.call('admin', { method: 'GET', url: '/v1/offers/some-offer' });
    const res = await get('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE http_request_duration_seconds histogram');
    expect(res.body).toMatch(/^process_cpu_\w+ [\d.e+-]+$/m);
    expect(res.body).toMatch(/^db_pool_connections\{state="in_use"\} \d+$/m);
    // Labelled by route pattern, not by URL, so ids do not blow up the label set.
    expect(res.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.body).toContain('route="/v1/offers/:id"');
    expect(res.body).not.toContain('some-offer');
  });

  it('/metrics counts claim batches and their elements', async () => {
    // A validation of an unknown code by an unknown customer: one batch of one element.
    const validated = await t.call('client', {
      method: 'POST',
      url: '/v1/claims/validate',
      payload: { code: 'NO-SUCH-CODE', customer_id: 'nobody' },
    });
    expect(validated.statusCode).toBe(404);
    const res = await get('/metrics');
    expect(res.body).toContain('# TYPE claim_batches_total counter');
    expect(res.body).toMatch(/^claim_batches_total [1-9]\d*$/m);
    expect(res.body).toMatch(/^claim_batch_elements_total [1-9]\d*$/m);
    expect(res.body).toMatch(/^claim_batch_fallbacks_total 0$/m);
  });
});

describe('API documentation', () => {
  it('/docs serves an HTML page that loads only local assets', async () => {
    const res = await get('/docs');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/<html/i);
    const tags = res.body.match(/<(script|link|img|iframe)\b[^>]*>/gi) ?? [];
    expect(tags.length).toBeGreaterThan(0);
    const assets = tags.flatMap((tag) =>
      [...tag.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!),
    );
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset, `asset ${asset}`).not.toMatch(/^(https?:)?\/\//i);
    }
    expect(res.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs|jsdelivr)/i);
    // The assets it names are served by the app itself.
    for (const asset of assets.filter((a) => a.endsWith('.js') || a.endsWith('.css'))) {
      const path = new URL(asset, 'http://localhost/docs/').pathname;
      expect((await get(path)).statusCode, path).toBe(200);
    }
  });

  it('/docs/json is an OpenAPI 3.1 document with the API and its bearer scheme', async () => {
    const res = await get('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.data;
    expect(String(doc.openapi)).toMatch(/^3\.1/);
    expect(doc.paths['/v1/api-keys']).toBeDefined();
    expect(Object.keys(doc.paths['/v1/api-keys'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(doc.paths['/v1/api-keys/{id}']?.delete).toBeDefined();
    expect(doc.paths['/v1/offers/{id}']?.patch).toBeDefined();
    const schemes = doc.components.securitySchemes as Record<string, { type: string; scheme: string }>;
    const bearer = Object.entries(schemes).find(([, s]) => s.type === 'http' && s.scheme === 'bearer');
    expect(bearer).toBeDefined();
    expect(doc.security).toEqual(expect.arrayContaining([{ [bearer![0]]: [] }]));
    // Generated from the same schemas that validate requests.
    const create = doc.paths['/v1/api-keys'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['name', 'role']));
    expect(body.additionalProperties).toBe(false);
    // Operational routes are not API surface.
    expect(doc.paths['/metrics']).toBeUndefined();
  });

  it('none of these need a key', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/docs', '/docs/json']) {
      const res = await t.call(null, { method: 'GET', url });
      expect(res.statusCode, url).toBeLessThan(400);
    }
  });
});
