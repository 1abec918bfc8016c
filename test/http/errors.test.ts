// Bad input of every kind gets the spec's error shape and a 4xx, never a 500.
import { once } from 'node:events';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import type { UserRole } from '../../src/auth/roles';
import { useTestApp } from '../support/context';

const BODY_LIMIT = 2048;
const t = useTestApp({ BODY_LIMIT_BYTES: String(BODY_LIMIT) });

const json = { 'content-type': 'application/json' };

/** Calls, then checks the status and that the body is exactly {"error": {code, message, details?}}. */
async function expectError(role: UserRole | null, options: InjectOptions, status: number, code: string) {
  const res = await t.call(role, options);
  expect(res.statusCode, `${options.method} ${String(options.url).slice(0, 80)}: ${res.body.slice(0, 200)}`).toBe(
    status,
  );
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.data)).toEqual(['error']);
  const keys = Object.keys(res.data.error).sort();
  expect(keys.filter((k) => k !== 'details')).toEqual(['code', 'message']);
  expect(res.data.error.code).toBe(code);
  expect(res.data.error.message).toEqual(expect.any(String));
  expect(res.data.error.message.length).toBeLessThan(1000);
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
  return res;
}

const detailPaths = (res: { data: any }) => (res.data.error.details?.fields ?? []).map((d: { path: string }) => d.path);

describe('request bodies', () => {
  it('malformed JSON → 400 validation_failed', async () => {
    for (const payload of ['{"id": "a", ', '{id: "a"}', "{'id':'a'}", '{"id":"a","name":"b"}}', 'nul']) {
      await expectError(
        'admin',
        { method: 'POST', url: '/v1/offers', payload, headers: json },
        400,
        'validation_failed',
      );
    }
  });

  it('an empty JSON body, an array or null where an object is expected → 400', async () => {
    for (const payload of ['', '[]', 'null', '"text"', '42']) {
      await expectError(
        'admin',
        { method: 'POST', url: '/v1/offers', payload, headers: json },
        400,
        'validation_failed',
      );
    }
  });

  it('an unknown field → 400 naming it', async () => {
    const res = await expectError(
      'admin',
      { method: 'POST', url: '/v1/point-accounts', payload: { key: 'spendable', name: 'Spendable', colour: 'red' } },
      400,
      'validation_failed',
    );
    expect(detailPaths(res)).toEqual(['body.colour']);
    // Nothing was written.
    const { rows } = await t.pool.query('SELECT 1 FROM point_accounts WHERE key = $1', ['spendable']);
    expect(rows).toHaveLength(0);
  });

  it('a wrong type is not coerced → 400 naming the field', async () => {
    const res = await expectError(
      'admin',
      { method: 'POST', url: '/v1/api-keys', payload: { name: 123, role: 'admin' } },
      400,
      'validation_failed',
    );
    expect(detailPaths(res)).toEqual(['body.name']);
    const nested = await expectError(
      'admin',
      { method: 'POST', url: '/v1/offers', payload: { id: ['a'], name: { x: 1 } } },
      400,
      'validation_failed',
    );
    expect(detailPaths(nested)).toEqual(expect.arrayContaining(['body.id', 'body.name']));
  });

  it('a body over the limit → 413', async () => {
    const payload = JSON.stringify({ id: 'big', name: 'x'.repeat(BODY_LIMIT * 2) });
    await expectError('admin', { method: 'POST', url: '/v1/offers', payload, headers: json }, 413, 'payload_too_large');
    const just = JSON.stringify({ id: 'small', name: 'x'.repeat(150) });
    expect(
      (await t.call('admin', { method: 'POST', url: '/v1/offers', payload: just, headers: json })).statusCode,
    ).toBe(201);
  });

  it('a content type the route does not take → 415', async () => {
    for (const type of ['application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) {
      await expectError(
        'admin',
        { method: 'POST', url: '/v1/offers', payload: 'id=a&name=b', headers: { 'content-type': type } },
        415,
        'unsupported_media_type',
      );
    }
  });

  it('prototype pollution is refused → 400, and nothing is polluted', async () => {
    for (const payload of [
      '{"__proto__": {"polluted": true}, "id": "proto", "name": "p"}',
      '{"id": "proto", "name": "p", "constructor": {"prototype": {"polluted": true}}}',
      '{"id": "proto", "name": {"__proto__": {"polluted": true}}}',
    ]) {
      await expectError(
        'admin',
        { method: 'POST', url: '/v1/offers', payload, headers: json },
        400,
        'validation_failed',
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const { rows } = await t.pool.query('SELECT 1 FROM offers WHERE id = $1', ['proto']);
    expect(rows).toHaveLength(0);
  });
});

describe('paths and queries', () => {
  it('an unknown route → 404 not_found, with or without a key', async () => {
    await expectError(null, { method: 'GET', url: '/v1/no-such-thing' }, 404, 'not_found');
    await expectError('admin', { method: 'POST', url: '/v1/api-keys/1/rotate', payload: {} }, 404, 'not_found');
    await expectError(null, { method: 'GET', url: '/nowhere?x=1' }, 404, 'not_found');
    await expectError('admin', { method: 'PUT', url: '/v1/audit' }, 404, 'not_found');
  });

  it('a bad cursor → 400', async () => {
    const forged = Buffer.from(JSON.stringify(['1; DROP TABLE api_keys'])).toString('base64url');
    for (const cursor of [
      'garbage',
      '!!!',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('{}').toString('base64url'),
      'x'.repeat(600),
    ]) {
      for (const url of ['/v1/api-keys', '/v1/audit', '/v1/offers', '/v1/point-accounts']) {
        await expectError(
          'admin',
          { method: 'GET', url: `${url}?cursor=${encodeURIComponent(cursor)}` },
          400,
          'validation_failed',
        );
      }
    }
    // Numeric keys are checked before they reach SQL; a text key is only ever a parameter.
    for (const url of ['/v1/api-keys', '/v1/audit']) {
      await expectError('admin', { method: 'GET', url: `${url}?cursor=${forged}` }, 400, 'validation_failed');
    }
    const textKeyed = await t.call('admin', { method: 'GET', url: `/v1/offers?cursor=${forged}` });
    expect(textKeyed.statusCode).toBe(200);
    expect((await t.pool.query('SELECT count(*) FROM api_keys')).rows[0].count).not.toBe('0');
  });

  it('limit outside 1–1000 or not a number → 400', async () => {
    for (const limit of ['0', '5000', '1001', '-1', 'ten', '1.5', '']) {
      const res = await expectError(
        'admin',
        { method: 'GET', url: `/v1/api-keys?limit=${limit}` },
        400,
        'validation_failed',
      );
      expect(detailPaths(res)).toEqual(['querystring.limit']);
    }
    expect((await t.call('admin', { method: 'GET', url: '/v1/api-keys?limit=1000' })).statusCode).toBe(200);
    expect((await t.call('admin', { method: 'GET', url: '/v1/api-keys?limit=1' })).statusCode).toBe(200);
  });

  it('an unknown query parameter → 400', async () => {
    const res = await expectError(
      'admin',
      { method: 'GET', url: '/v1/audit?entity=api_key' },
      400,
      'validation_failed',
    );
    expect(detailPaths(res)).toEqual(['querystring.entity']);
  });

  it('a non-numeric or out-of-range id → 400, not a database error', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '1e3', '99999999999999999999', '1%20OR%201=1', '%00']) {
      await expectError('admin', { method: 'DELETE', url: `/v1/api-keys/${id}` }, 400, 'validation_failed');
    }
  });

  it('a huge or malformed path parameter → 400 in the error shape', async () => {
    await expectError('admin', { method: 'DELETE', url: `/v1/api-keys/${'9'.repeat(5000)}` }, 400, 'validation_failed');
    await expectError('admin', { method: 'GET', url: `/v1/offers/${'a'.repeat(600)}` }, 400, 'validation_failed');
    await expectError('admin', { method: 'GET', url: `/v1/offers/${'a'.repeat(300)}` }, 400, 'validation_failed');
    await expectError('admin', { method: 'GET', url: '/v1/offers/%E0%A4%A' }, 400, 'validation_failed');
  });
});

describe('request ids', () => {
  it('every response carries x-request-id; a sane incoming one is echoed', async () => {
    const ok = await t.call(null, { method: 'GET', url: '/healthz' });
    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const err = await t.call(null, { method: 'GET', url: '/v1/audit' });
    expect(err.statusCode).toBe(401);
    expect(err.headers['x-request-id']).toEqual(expect.any(String));
    expect(err.headers['x-request-id']).not.toBe(ok.headers['x-request-id']);

    const echoed = await t.call('admin', {
      method: 'GET',
      url: '/v1/audit',
      headers: { 'x-request-id': 'lb-7f3a.42_x' },
    });
    expect(echoed.headers['x-request-id']).toBe('lb-7f3a.42_x');

    for (const given of ['has space', 'x'.repeat(65), '<script>', 'a\\b']) {
      const res = await t.call(null, { method: 'GET', url: '/healthz', headers: { 'x-request-id': given } });
      expect(res.headers['x-request-id']).not.toBe(given);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('the request id given is written to the audit log', async () => {
    const res = await t.call('admin', {
      method: 'POST',
      url: '/v1/point-sources',
      payload: { key: 'traced', name: 'Traced' },
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(res.statusCode).toBe(201);
    const audit = await t.call('admin', { method: 'GET', url: '/v1/audit?entity_id=traced' });
    expect(audit.data.items[0].request_id).toBe('trace-123');
  });
});

describe('constraints only the database enforces', () => {
  /** Runs `setup` on this file's database, then undoes it, whatever happens in between. */
  async function withSchemaChange(setup: string, undo: string, check: () => Promise<void>) {
    await t.pool.query(setup);
    try {
      await check();
    } finally {
      await t.pool.query(undo);
    }
  }
  const createOffer = (id: string, name: string) => ({
    method: 'POST' as const,
    url: '/v1/offers',
    payload: { id, name },
  });
  const expectNoSql = (res: { body: string }) =>
    expect(res.body).not.toMatch(/offers|constraint|violates|test_|\(name\)/i);

  it('a CHECK violation (23514) → 400 validation_failed, without SQL detail', async () => {
    await withSchemaChange(
      "ALTER TABLE offers ADD CONSTRAINT offers_test_check CHECK (name <> 'refused by check')",
      'ALTER TABLE offers DROP CONSTRAINT offers_test_check',
      async () =>
        expectNoSql(await expectError('admin', createOffer('checked', 'refused by check'), 400, 'validation_failed')),
    );
  });

  it('a unique violation (23505) → 409 conflict', async () => {
    await withSchemaChange(
      'CREATE UNIQUE INDEX offers_test_name ON offers (lower(name))',
      'DROP INDEX offers_test_name',
      async () => {
        expect((await t.call('admin', createOffer('first-name', 'Same Name'))).statusCode).toBe(201);
        expectNoSql(await expectError('admin', createOffer('second-name', 'same name'), 409, 'conflict'));
      },
    );
  });

  it('a NOT NULL (23502) → 400 and a foreign key violation (23503) → 409', async () => {
    await withSchemaChange(
      `ALTER TABLE offers ADD COLUMN test_required text NOT NULL DEFAULT $$x$$;
       ALTER TABLE offers ALTER COLUMN test_required DROP DEFAULT`,
      'ALTER TABLE offers DROP COLUMN test_required',
      async () =>
        expectNoSql(await expectError('admin', createOffer('not-null', 'Not null'), 400, 'validation_failed')),
    );
    await withSchemaChange(
      `ALTER TABLE offers ADD COLUMN test_owner text DEFAULT $$nobody$$,
         ADD FOREIGN KEY (test_owner) REFERENCES customers (id) NOT VALID`,
      'ALTER TABLE offers DROP COLUMN test_owner',
      async () => expectNoSql(await expectError('admin', createOffer('foreign', 'Foreign'), 409, 'conflict')),
    );
  });
});

describe('requests Node refuses before Fastify sees them', () => {
  let port = 0;
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as net.AddressInfo).port;
  });

  /** Sends raw bytes on a fresh connection; resolves with the answer once the server closes it. */
  async function raw(request: string | Buffer) {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the answer still leaves the answer
    socket.write(request);
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString('utf8');
    const [head = '', body = ''] = text.split('\r\n\r\n', 2);
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    return { status: Number(statusLine.split(' ')[1]), statusLine, headers, body };
  }

  async function expectRawError(request: string | Buffer, status: number, code: string) {
    const res = await raw(request);
    expect(res.status, res.statusLine).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.connection).toBe('close');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
    const data = JSON.parse(res.body);
    expect(Object.keys(data)).toEqual(['error']);
    expect(Object.keys(data.error).filter((k) => k !== 'details')).toEqual(['code', 'message']);
    expect(data.error.code).toBe(code);
    return data;
  }

  it('answers a well-formed request on this socket (the harness works)', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('a NUL or a control character in a header → 400 validation_failed', async () => {
    await expectRawError(
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\u0000b\r\n\r\n', 'latin1'),
      400,
      'validation_failed',
    );
    await expectRawError(
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\u0001b\r\n\r\n', 'latin1'),
      400,
      'validation_failed',
    );
    await expectRawError('GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n', 400, 'validation_failed');
  });

  it('headers over the limit (80 KB) → 431 headers_too_large', async () => {
    await expectRawError(
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(80_000)}\r\n\r\n`,
      431,
      'headers_too_large',
    );
  });

  it('an HTTP/1.1 request without Host → 400 validation_failed; HTTP/1.0 needs none', async () => {
    const data = await expectRawError('GET /healthz HTTP/1.1\r\n\r\n', 400, 'validation_failed');
    expect(data.error.message).toMatch(/Host/);
    expect((await raw('GET /healthz HTTP/1.0\r\n\r\n')).status).toBe(200);
  });

  it('a garbage request line or a bad version → 400 validation_failed', async () => {
    await expectRawError('GARBAGE\r\n\r\n', 400, 'validation_failed');
    await expectRawError('\u0001\u0002\u0003 / HTTP/1.1\r\n\r\n', 400, 'validation_failed');
    await expectRawError('GET / HTTP/9.9\r\nHost: localhost\r\n\r\n', 400, 'validation_failed');
  });
});

describe('while shutting down', () => {
  it('a new request → 503 shutting_down with Retry-After and the connection closed; probes still answer', async () => {
    t.app.shuttingDown = true;
    try {
      const res = await expectError('admin', { method: 'GET', url: '/v1/offers' }, 503, 'shutting_down');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers.connection).toBe('close');
      // Refused before authentication: even an anonymous caller gets the 503, not a 401.
      await expectError(null, { method: 'GET', url: '/v1/audit' }, 503, 'shutting_down');
      expect((await t.call(null, { method: 'GET', url: '/readyz' })).data).toEqual({ status: 'shutting_down' });
      expect((await t.call(null, { method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      t.app.shuttingDown = false;
    }
    expect((await t.call('admin', { method: 'GET', url: '/v1/offers' })).statusCode).toBe(200);
  });
});
