import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';

const t = useTestApp();

describe('point accounts and sources', () => {
  for (const path of ['/v1/point-accounts', '/v1/point-sources']) {
    it(`${path}: creates, lists in key order, pages, refuses duplicates`, async () => {
      for (const key of ['zeta', 'alpha', 'mid']) {
        const res = await t.call('admin', { method: 'POST', url: path, payload: { key, name: `The ${key}` } });
        expect(res.statusCode).toBe(201);
        expect(res.data).toMatchObject({ key, name: `The ${key}` });
        expect(Date.parse(res.data.created_at)).not.toBeNaN();
      }
      const dup = await t.call('admin', { method: 'POST', url: path, payload: { key: 'alpha', name: 'again' } });
      expect(dup.statusCode).toBe(409);
      expect(dup.data.error.code).toBe('already_exists');

      const first = await t.call('agent', { method: 'GET', url: `${path}?limit=2` });
      expect(first.statusCode).toBe(200);
      expect(first.data.items.map((i: { key: string }) => i.key)).toEqual(['alpha', 'mid']);
      expect(first.data.next_cursor).toEqual(expect.any(String));
      const second = await t.call('agent', { method: 'GET', url: `${path}?limit=2&cursor=${first.data.next_cursor}` });
      expect(second.data.items.map((i: { key: string }) => i.key)).toEqual(['zeta']);
      expect(second.data.next_cursor).toBeNull();
    });
  }

  it('rejects a key with spaces and a missing name', async () => {
    const res = await t.call('admin', { method: 'POST', url: '/v1/point-accounts', payload: { key: 'has space' } });
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('validation_failed');
    const paths = res.data.error.details.fields.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.key', 'body.name']));
  });
});

describe('offers', () => {
  it('creates, reads, edits and lists offers', async () => {
    const created = await t.call('admin', {
      method: 'POST',
      url: '/v1/offers',
      payload: { id: 'free-coffee', name: 'Free coffee', description: 'Any size' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.data).toMatchObject({ id: 'free-coffee', name: 'Free coffee', description: 'Any size' });

    const got = await t.call('agent', { method: 'GET', url: '/v1/offers/free-coffee' });
    expect(got.statusCode).toBe(200);
    expect(got.data.name).toBe('Free coffee');

    const edited = await t.call('admin', {
      method: 'PATCH',
      url: '/v1/offers/free-coffee',
      payload: { description: null },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.data).toMatchObject({ name: 'Free coffee', description: null });

    const renamed = await t.call('admin', {
      method: 'PATCH',
      url: '/v1/offers/free-coffee',
      payload: { name: 'Coffee' },
    });
    expect(renamed.data).toMatchObject({ name: 'Coffee', description: null });

    const list = await t.call('agent', { method: 'GET', url: '/v1/offers' });
    expect(list.data.items.map((o: { id: string }) => o.id)).toContain('free-coffee');
  });

  it('answers 404 for an unknown offer and 409 for a taken id', async () => {
    const missing = await t.call('agent', { method: 'GET', url: '/v1/offers/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.data.error.code).toBe('offer_not_found');
    await t.call('admin', { method: 'POST', url: '/v1/offers', payload: { id: 'dup', name: 'Dup' } });
    const dup = await t.call('admin', { method: 'POST', url: '/v1/offers', payload: { id: 'dup', name: 'Dup' } });
    expect(dup.statusCode).toBe(409);
    const patchMissing = await t.call('admin', { method: 'PATCH', url: '/v1/offers/nope', payload: { name: 'x' } });
    expect(patchMissing.statusCode).toBe(404);
  });

  it('refuses an empty or unknown-field edit', async () => {
    await t.call('admin', { method: 'POST', url: '/v1/offers', payload: { id: 'edit-me', name: 'Edit me' } });
    const empty = await t.call('admin', { method: 'PATCH', url: '/v1/offers/edit-me', payload: {} });
    expect(empty.statusCode).toBe(400);
    const unknown = await t.call('admin', { method: 'PATCH', url: '/v1/offers/edit-me', payload: { colour: 'red' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.data.error.details.fields[0].path).toBe('body.colour');
  });
});
