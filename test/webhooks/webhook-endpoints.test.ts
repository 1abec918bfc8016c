// Webhook endpoints (docs/product.md, "Webhooks"): admin-only CRUD with audit, a derived
// signing secret shown once, rotation with a 24-hour overlap checked by the Standard Webhooks
// reference library, and the URL rules that keep webhooks off the service's own network.
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { sign, signingSecrets } from '../../src/webhooks/secrets';
import * as sql from '../../src/webhooks/webhooks.sql';
import { useTestApp } from '../support/context';

const WEBHOOK_KEY = randomBytes(32).toString('base64');
const t = useTestApp({ WEBHOOK_KEY });
const key = Buffer.from(WEBHOOK_KEY, 'base64');

// A public address given as an IP literal: the check needs no DNS for it.
const PUBLIC_URL = 'https://93.184.215.14/hooks/promo';

async function create(payload: Record<string, unknown>) {
  const res = await t.call('admin', { method: 'POST', url: '/v1/webhook-endpoints', payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.data;
}

async function row(id: string) {
  const found = await sql.findEndpoint(t.pool, id);
  if (!found) throw new Error(`no endpoint ${id}`);
  return found;
}

/** A delivery as the future sender will make it: signed with every current secret. */
async function signedDelivery(id: string, body = JSON.stringify({ type: 'claim.created', data: { id: '1' } })) {
  const msgId = `msg_${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(signingSecrets(key, await row(id)), msgId, timestamp, body),
  };
  return { body, headers };
}

const accepts = (secret: string, delivery: { body: string; headers: Record<string, string> }) => {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers);
    return true;
  } catch {
    return false;
  }
};

describe('webhook endpoints', () => {
  it('creates an endpoint and shows its secret once, never in a read', async () => {
    const created = await create({
      url: PUBLIC_URL,
      events: ['claim.created', 'claim.reversed'],
      description: 'CRM points sync',
    });
    expect(created).toMatchObject({
      id: expect.any(String),
      url: PUBLIC_URL,
      events: ['claim.created', 'claim.reversed'],
      description: 'CRM points sync',
      enabled: true,
      secret_version: 1,
      secret_rotated_at: null,
      previous_secret_expires_at: null,
      disabled_at: null,
      created_by: t.actors.admin,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);

    const one = await t.call('admin', { method: 'GET', url: `/v1/webhook-endpoints/${created.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.data).not.toHaveProperty('secret');
    expect(one.data).toEqual({ ...created, secret: undefined, secret_version: 1 });
    const list = await t.call('admin', { method: 'GET', url: '/v1/webhook-endpoints?limit=1000' });
    expect(list.statusCode).toBe(200);
    expect(list.data.items.map((e: { id: string }) => e.id)).toContain(created.id);
    for (const res of [one, list]) expect(res.body).not.toContain(created.secret.slice(6));

    // Nothing stored holds the secret: not the row, not the audit log.
    const stored = await t.pool.query('SELECT * FROM webhook_endpoints WHERE id = $1', [created.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(created.secret.slice(6));
    const audit = await t.pool.query('SELECT * FROM audit_log WHERE entity_id = $1', [created.id]);
    expect(JSON.stringify(audit.rows)).not.toContain(created.secret.slice(6));

    // The secret shown is the one deliveries are signed with.
    expect(accepts(created.secret, await signedDelivery(created.id))).toBe(true);
  });

  it('takes every event type or all of them, created enabled or not', async () => {
    const all = await create({ url: PUBLIC_URL, events: ['*'], enabled: false });
    expect(all).toMatchObject({
      events: ['*'],
      enabled: false,
      disabled_at: expect.any(String),
      disabled_reason: 'manual',
    });
    const { EVENT_TYPES } = await import('../../src/events/event-types');
    const every = await create({ url: PUBLIC_URL, events: [...EVENT_TYPES] });
    expect(every.events).toEqual([...EVENT_TYPES]);
  });

  it('edits, disables, enables and deletes, auditing each change', async () => {
    const created = await create({ url: PUBLIC_URL, events: ['list.low'] });
    const path = `/v1/webhook-endpoints/${created.id}`;

    const edited = await t.call('admin', {
      method: 'PATCH',
      url: path,
      payload: { url: 'https://1.1.1.1/other', events: ['list.low', 'list.completed'], description: 'ops' },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.data).toMatchObject({
      url: 'https://1.1.1.1/other',
      events: ['list.low', 'list.completed'],
      description: 'ops',
      enabled: true,
    });
    expect(edited.data).not.toHaveProperty('secret');

    const disabled = await t.call('admin', { method: 'PATCH', url: path, payload: { enabled: false } });
    expect(disabled.data).toMatchObject({ enabled: false, disabled_at: expect.any(String), disabled_reason: 'manual' });
    // Disabling again keeps the first time.
    const again = await t.call('admin', { method: 'PATCH', url: path, payload: { enabled: false } });
    expect(again.data.disabled_at).toBe(disabled.data.disabled_at);
    const enabled = await t.call('admin', {
      method: 'PATCH',
      url: path,
      payload: { enabled: true, description: null },
    });
    expect(enabled.data).toMatchObject({ enabled: true, disabled_at: null, disabled_reason: null, description: null });

    const deleted = await t.call('admin', { method: 'DELETE', url: path });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.data).toMatchObject({ id: created.id, url: 'https://1.1.1.1/other' });
    expect(deleted.data).not.toHaveProperty('secret');
    for (const method of ['GET', 'DELETE', 'PATCH'] as const) {
      const gone = await t.call('admin', {
        method,
        url: path,
        ...(method === 'PATCH' ? { payload: { enabled: true } } : {}),
      });
      expect(gone.statusCode, method).toBe(404);
      expect(gone.data.error.code).toBe('webhook_endpoint_not_found');
    }
    const rotateGone = await t.call('admin', { method: 'POST', url: `${path}/rotate-secret` });
    expect(rotateGone.statusCode).toBe(404);

    const audit = await t.call('admin', {
      method: 'GET',
      url: `/v1/audit?entity_type=webhook_endpoint&entity_id=${created.id}`,
    });
    expect(audit.statusCode).toBe(200);
    expect(audit.data.items.map((e: { action: string }) => e.action)).toEqual([
      'webhook_endpoint.delete',
      'webhook_endpoint.update',
      'webhook_endpoint.update',
      'webhook_endpoint.update',
      'webhook_endpoint.update',
      'webhook_endpoint.create',
    ]);
    const [del, , , , firstEdit, creation] = audit.data.items;
    expect(creation.after).toMatchObject({ id: created.id, url: PUBLIC_URL, events: ['list.low'] });
    expect(firstEdit.before).toMatchObject({ url: PUBLIC_URL });
    expect(firstEdit.after).toMatchObject({ url: 'https://1.1.1.1/other' });
    expect(del.before).toMatchObject({ id: created.id });
    expect(del.actor).toBe(t.actors.admin);
    expect(audit.body).not.toContain(created.secret.slice(6));
  });

  it('pages through endpoints with a cursor', async () => {
    for (let i = 0; i < 3; i++) await create({ url: PUBLIC_URL, events: ['batch.failed'], description: `paged ${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
      const res = await t.call('admin', { method: 'GET', url: `/v1/webhook-endpoints?${query}` });
      expect(res.statusCode).toBe(200);
      expect(res.data.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.data.items.map((e: { id: string }) => e.id));
      cursor = res.data.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort((a, b) => Number(a) - Number(b)));
    expect(new Set(seen).size).toBe(seen.length);
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM webhook_endpoints');
    expect(seen).toHaveLength(rows[0].n);
  });
});

describe('secret rotation', () => {
  it('gives a new secret once and keeps the previous one signing for 24 hours', async () => {
    const created = await create({ url: PUBLIC_URL, events: ['*'] });
    const rotated = await t.call('admin', { method: 'POST', url: `/v1/webhook-endpoints/${created.id}/rotate-secret` });
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.data).toMatchObject({
      id: created.id,
      secret_version: 2,
      secret_rotated_at: expect.any(String),
      previous_secret_expires_at: expect.any(String),
    });
    expect(rotated.data.secret).toMatch(/^whsec_/);
    expect(rotated.data.secret).not.toBe(created.secret);
    const expires = Date.parse(rotated.data.previous_secret_expires_at) - Date.parse(rotated.data.secret_rotated_at);
    expect(expires).toBe(24 * 3600 * 1000);
    const read = await t.call('admin', { method: 'GET', url: `/v1/webhook-endpoints/${created.id}` });
    expect(read.data).not.toHaveProperty('secret');
    expect(read.body).not.toContain(rotated.data.secret.slice(6));

    // During the overlap every delivery carries two signatures; either secret verifies it.
    const during = await signedDelivery(created.id);
    expect(during.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    expect(accepts(rotated.data.secret, during)).toBe(true);
    expect(accepts(created.secret, during)).toBe(true);
    expect(accepts(`whsec_${randomBytes(32).toString('base64')}`, during)).toBe(false);

    // 24 hours on, the previous secret no longer signs.
    await t.pool.query(
      "UPDATE webhook_endpoints SET secret_rotated_at = now() - interval '24 hours 1 second' WHERE id = $1",
      [created.id],
    );
    const after = await signedDelivery(created.id);
    expect(after.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(accepts(rotated.data.secret, after)).toBe(true);
    expect(accepts(created.secret, after)).toBe(false);
    const expired = await t.call('admin', { method: 'GET', url: `/v1/webhook-endpoints/${created.id}` });
    expect(expired.data.previous_secret_expires_at).toBeNull();

    const audit = await t.call('admin', {
      method: 'GET',
      url: `/v1/audit?entity_type=webhook_endpoint&entity_id=${created.id}`,
    });
    const rotation = audit.data.items[0];
    expect(rotation).toMatchObject({ action: 'webhook_endpoint.rotate_secret', actor: t.actors.admin });
    expect(rotation.before).toMatchObject({ secret_version: 1 });
    expect(rotation.after).toMatchObject({ secret_version: 2 });
    expect(audit.body).not.toContain(rotated.data.secret.slice(6));
  });

  it('ends the oldest secret at once on a second rotation within the overlap', async () => {
    const created = await create({ url: PUBLIC_URL, events: ['*'] });
    const rotate = () => t.call('admin', { method: 'POST', url: `/v1/webhook-endpoints/${created.id}/rotate-secret` });
    const second = (await rotate()).data;
    const third = (await rotate()).data;
    expect(third.secret_version).toBe(3);
    const delivery = await signedDelivery(created.id);
    expect(accepts(third.secret, delivery)).toBe(true);
    expect(accepts(second.secret, delivery)).toBe(true);
    expect(accepts(created.secret, delivery)).toBe(false);
  });

  it('signs as Standard Webhooks says, whatever the body', () => {
    const secrets = [`whsec_${randomBytes(32).toString('base64')}`];
    const timestamp = Math.floor(Date.now() / 1000);
    for (const body of ['{}', JSON.stringify({ text: 'ünïcødé ✓', n: [1, 2] })]) {
      const headers = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(timestamp),
        'webhook-signature': sign(secrets, 'msg_1', timestamp, body),
      };
      expect(new Webhook(secrets[0]!).verify(body, headers)).toEqual(JSON.parse(body));
      expect(() => new Webhook(secrets[0]!).verify(`${body} `, headers)).toThrow();
    }
  });
});

describe('webhook URLs', () => {
  const refused = [
    'http://127.0.0.1/hook',
    'http://127.1.2.3:8080/hook',
    'http://[::1]/hook',
    'http://[::]/hook',
    'http://0.0.0.0/hook',
    'http://10.0.0.1/hook',
    'http://172.16.5.4/hook',
    'http://192.168.1.10/hook',
    'http://100.64.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://224.0.0.1/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://[ff02::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:a9fe:a9fe]/hook',
    'http://[64:ff9b::a00:1]/hook',
    'http://0x7f.1/hook',
    'http://2130706433/hook',
    'http://localhost:3000/hook',
  ];

  it('refuses hosts that reach loopback, private, link-local or reserved addresses', async () => {
    for (const url of refused) {
      const res = await t.call('admin', {
        method: 'POST',
        url: '/v1/webhook-endpoints',
        payload: { url, events: ['*'] },
      });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      expect(res.data.error.code, url).toBe('webhook_url_not_allowed');
      expect(res.data.error.details.fields[0].path).toBe('body.url');
    }
    // An edit is checked the same way.
    const created = await create({ url: PUBLIC_URL, events: ['*'] });
    const edit = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${created.id}`,
      payload: { url: 'http://169.254.169.254/' },
    });
    expect(edit.statusCode).toBe(400);
    expect(edit.data.error.code).toBe('webhook_url_not_allowed');
    expect((await row(created.id)).url).toBe(PUBLIC_URL);
  });

  it('refuses other schemes, credentials and hosts that do not resolve', async () => {
    for (const url of [
      'ftp://93.184.215.14/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pass@93.184.215.14/hook',
      'https://user@93.184.215.14/hook',
      'https://no-such-host.invalid/hook',
      'not a url',
    ]) {
      const res = await t.call('admin', {
        method: 'POST',
        url: '/v1/webhook-endpoints',
        payload: { url, events: ['*'] },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.data.error.code, url).toBe('webhook_url_not_allowed');
    }
    const { rows } = await t.pool.query(
      "SELECT count(*)::int AS n FROM webhook_endpoints WHERE url NOT LIKE 'https://%'",
    );
    expect(rows[0].n).toBe(0);
  });

  it('accepts public addresses, IPv4 and IPv6', async () => {
    for (const url of ['http://1.1.1.1/hook', 'https://[2606:4700:4700::1111]/hook', 'https://8.8.8.8:8443/x?y=1']) {
      expect((await create({ url, events: ['*'] })).url).toBe(url);
    }
  });
});

describe('webhook URLs with WEBHOOK_ALLOW_PRIVATE=true', () => {
  const p = useTestApp({ WEBHOOK_KEY, WEBHOOK_ALLOW_PRIVATE: 'true' });

  it('accepts loopback, private and link-local hosts, but still only http(s) without credentials', async () => {
    for (const url of [
      'http://127.0.0.1:9000/hook',
      'http://[::1]/hook',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/hook',
      'http://localhost:3000/hook',
    ]) {
      const res = await p.call('admin', {
        method: 'POST',
        url: '/v1/webhook-endpoints',
        payload: { url, events: ['*'] },
      });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
    }
    for (const url of ['ftp://10.0.0.1/', 'http://a:b@10.0.0.1/']) {
      const res = await p.call('admin', {
        method: 'POST',
        url: '/v1/webhook-endpoints',
        payload: { url, events: ['*'] },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.data.error.code).toBe('webhook_url_not_allowed');
    }
  });
});

describe('bad input', () => {
  it('is 400 validation_failed, never a 500', async () => {
    const created = await create({ url: PUBLIC_URL, events: ['*'] });
    const bodies: unknown[] = [
      {},
      { url: PUBLIC_URL },
      { events: ['*'] },
      { url: PUBLIC_URL, events: [] },
      { url: PUBLIC_URL, events: ['claim.made'] },
      { url: PUBLIC_URL, events: ['*', 'claim.created'] },
      { url: PUBLIC_URL, events: ['claim.created', 'claim.created'] },
      { url: PUBLIC_URL, events: 'claim.created' },
      { url: PUBLIC_URL, events: [1] },
      { url: 42, events: ['*'] },
      { url: '', events: ['*'] },
      { url: `https://example.com/${'a'.repeat(2100)}`, events: ['*'] },
      { url: PUBLIC_URL, events: ['*'], enabled: 'yes' },
      { url: PUBLIC_URL, events: ['*'], description: 'x'.repeat(2001) },
      { url: PUBLIC_URL, events: ['*'], secret: 'whsec_mine' },
      { url: PUBLIC_URL, events: ['*'], secret_version: 7 },
      [],
      null,
    ];
    for (const payload of bodies) {
      const res = await t.call('admin', {
        method: 'POST',
        url: '/v1/webhook-endpoints',
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode, `${JSON.stringify(payload)?.slice(0, 80)}: ${res.body}`).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    for (const payload of [{}, { events: [] }, { url: null }, { enabled: null }, { id: '5' }, { secret_version: 2 }]) {
      const res = await t.call('admin', { method: 'PATCH', url: `/v1/webhook-endpoints/${created.id}`, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    for (const url of ['/v1/webhook-endpoints/abc', '/v1/webhook-endpoints/0', '/v1/webhook-endpoints/-1']) {
      const res = await t.call('admin', { method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    for (const query of ['limit=0', 'limit=1001', 'limit=x', 'cursor=bogus', 'other=1']) {
      const res = await t.call('admin', { method: 'GET', url: `/v1/webhook-endpoints?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
  });
});

describe('roles', () => {
  it('lets only admins near webhook endpoints', async () => {
    const created = await create({ url: PUBLIC_URL, events: ['*'] });
    const calls = [
      { method: 'POST', url: '/v1/webhook-endpoints', payload: { url: PUBLIC_URL, events: ['*'] } },
      { method: 'GET', url: '/v1/webhook-endpoints' },
      { method: 'GET', url: `/v1/webhook-endpoints/${created.id}` },
      { method: 'PATCH', url: `/v1/webhook-endpoints/${created.id}`, payload: { enabled: false } },
      { method: 'DELETE', url: `/v1/webhook-endpoints/${created.id}` },
      { method: 'POST', url: `/v1/webhook-endpoints/${created.id}/rotate-secret` },
    ] as const;
    for (const role of ['agent', 'client'] as const) {
      for (const call of calls) {
        const res = await t.call(role, call);
        expect(res.statusCode, `${call.method} ${call.url} as ${role}`).toBe(403);
        expect(res.data.error.code).toBe('forbidden');
      }
    }
    expect((await row(created.id)).enabled).toBe(true);
  });
});

describe('Idempotency-Key', () => {
  it('makes concurrent duplicates of a create one endpoint, and stores no secret with the answer', async () => {
    const description = `idempotent ${randomUUID()}`;
    const headers = { 'idempotency-key': `hook-${randomUUID()}` };
    const payload = { url: PUBLIC_URL, events: ['claim.created'], description };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.call('admin', { method: 'POST', url: '/v1/webhook-endpoints', payload, headers }),
      ),
    );
    const first = responses.filter((r) => r.headers['idempotent-replayed'] === undefined);
    expect(first).toHaveLength(1);
    for (const r of responses) {
      expect(r.statusCode, r.body).toBe(201);
      expect(r.data).toEqual(first[0]!.data);
    }
    const { rows } = await t.pool.query('SELECT id FROM webhook_endpoints WHERE description = $1', [description]);
    expect(rows).toHaveLength(1);
    const audits = await t.pool.query(
      "SELECT count(*)::int AS n FROM audit_log WHERE action = 'webhook_endpoint.create' AND entity_id = $1",
      [rows[0].id],
    );
    expect(audits.rows[0].n).toBe(1);
    // The replayed answer carries the secret, derived again; the stored answer does not.
    expect(first[0]!.data.secret).toMatch(/^whsec_/);
    const stored = await t.pool.query('SELECT response::text AS response FROM idempotency_keys WHERE key = $1', [
      headers['idempotency-key'],
    ]);
    expect(stored.rows[0].response).toContain(rows[0].id);
    expect(stored.rows[0].response).not.toContain(first[0]!.data.secret.slice(6));
  });

  it('replays a rotation with the secret it made, not a new one', async () => {
    const created = await create({ url: PUBLIC_URL, events: ['*'] });
    const options = {
      method: 'POST' as const,
      url: `/v1/webhook-endpoints/${created.id}/rotate-secret`,
      headers: { 'idempotency-key': `rotate-${randomUUID()}` },
    };
    const first = await t.call('admin', options);
    const replayed = await t.call('admin', options);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.data).toEqual(first.data);
    expect((await row(created.id)).secret_version).toBe(2);
  });
});
