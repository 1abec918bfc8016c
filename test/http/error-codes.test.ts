// The one table of error codes (src/http/error-codes.ts) against what users read: the table in
// docs/product.md, and the `code` enums of the OpenAPI document.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/http/error-codes';
import { useTestApp } from '../support/context';

const t = useTestApp();

/** The codes and statuses of docs/product.md's "Error codes" table. */
function documentedCodes(): Map<string, string> {
  const text = readFileSync(new URL('../../docs/product.md', import.meta.url), 'utf8');
  const table = text.slice(text.indexOf('## Error codes'));
  const rows = table.split('\n').filter((line) => /^\| `/.test(line));
  const codes = new Map<string, string>();
  for (const row of rows) {
    const [names, status] = row
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim());
    for (const [, code] of names!.matchAll(/`([a-z_]+)`/g)) codes.set(code!, status!);
  }
  return codes;
}

describe('error codes', () => {
  it('are the ones docs/product.md lists, with the same statuses', () => {
    const documented = documentedCodes();
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, [status]] of Object.entries(ERROR_CODES)) {
      // bad_request is any 4xx the HTTP layer finds; the table says so
      if (code !== 'bad_request') expect(documented.get(code), code).toBe(String(status));
    }
  });

  it('are declared per operation in the API document, each under its own status', async () => {
    const doc = (await t.call(null, { method: 'GET', url: '/docs/json' })).data;
    let operations = 0;
    for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(methods)) {
        operations++;
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          if (Number(status) < 400) continue;
          const codes: ErrorCode[] = response.content['application/json'].schema.properties.error.properties.code.enum;
          expect(codes.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
          for (const code of codes)
            expect(ERROR_CODES[code]?.[0], `${method} ${path} ${status} ${code}`).toBe(Number(status));
        }
      }
    }
    expect(operations).toBeGreaterThan(50);
    const claim = doc.paths['/v1/claims'].post.responses;
    expect(claim['409'].content['application/json'].schema.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['list_cap_reached', 'code_already_claimed', 'idempotency_key_in_progress']),
    );
    expect(claim['429'].content['application/json'].schema.properties.error.properties.code.enum).toEqual([
      'customer_locked_out',
      'rate_limited',
    ]);
  });
});
