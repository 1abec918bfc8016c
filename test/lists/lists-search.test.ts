import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createList } from '../support/fixtures';

const t = useTestApp();
const outcome = { tags: ['vip'] };
const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

interface ListView {
  id: string;
  name: string;
  type: string;
  status: string;
  starts_at: string;
  ends_at: string | null;
  claim_count: number;
  entry_cap: number | null;
  code_count: number;
  created_at: string;
}

async function all(query: string, limit = 2): Promise<ListView[]> {
  const items: ListView[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `/v1/lists?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await t.call('agent', { method: 'GET', url });
    expect(res.statusCode, url).toBe(200);
    items.push(...res.data.items);
    cursor = res.data.next_cursor;
  } while (cursor);
  return items;
}

beforeAll(async () => {
  const specs = [
    {
      name: 'Summer 10% off',
      type: 'single_use',
      starts_at: at(-2 * HOUR),
      ends_at: at(5 * HOUR),
      redemption_cap: 100,
    },
    { name: 'Winter sale', type: 'multi_use', code: 'WINTER', starts_at: at(-3 * HOUR), redemption_cap: 5 },
    { name: 'winter_partner', type: 'third_party', starts_at: at(2 * HOUR) },
    { name: 'Autumn', type: 'multi_use', code: 'AUTUMN', starts_at: at(-5 * HOUR), ends_at: at(-1 * HOUR) },
    { name: 'Spring', type: 'single_use', starts_at: at(-1 * HOUR), redemption_cap: 2 },
    { name: 'Open house', type: 'multi_use', code: 'OPENHOUSE', starts_at: at(-4 * HOUR) },
    { name: 'Launch', type: 'single_use', starts_at: at(-6 * HOUR) },
  ];
  for (const spec of specs) {
    await createList(t, { ...spec, outcome });
  }
  // Claims and codes arrive with later features; set the counters the way they will.
  await t.pool.query(`UPDATE list_counters c SET claims = v.claims, codes = c.codes + v.codes
                        FROM (VALUES ('Summer 10% off', 3, 40), ('Winter sale', 5, 0), ('Spring', 2, 9),
                                     ('Launch', 1, 12)) AS v(name, claims, codes), lists l
                       WHERE l.name = v.name AND c.list_id = l.id`);
});

const STATUS_RANK: Record<string, number> = { pending: 0, active: 1, completed: 2 };
const sortKeys: Record<string, (l: ListView) => string | number> = {
  name: (l) => l.name,
  type: (l) => l.type,
  status: (l) => STATUS_RANK[l.status]!,
  starts_at: (l) => Date.parse(l.starts_at),
  ends_at: (l) => (l.ends_at ? Date.parse(l.ends_at) : Infinity),
  claim_count: (l) => l.claim_count,
  entry_cap: (l) => l.entry_cap ?? Infinity,
  code_count: (l) => l.code_count,
  created_at: (l) => Date.parse(l.created_at),
};

function expectSorted(items: ListView[], column: string, order: 'asc' | 'desc') {
  const key = sortKeys[column]!;
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [key(items[i - 1]!), key(items[i]!)];
    const ordered =
      order === 'asc'
        ? a < b || (a === b && BigInt(items[i - 1]!.id) < BigInt(items[i]!.id))
        : a > b || (a === b && BigInt(items[i - 1]!.id) > BigInt(items[i]!.id));
    expect(ordered, `${column} ${order} at ${i}: ${a} then ${b}`).toBe(true);
  }
}

describe('searching lists', () => {
  it('derives each list status', async () => {
    const byName = Object.fromEntries((await all('', 100)).map((l) => [l.name, l.status]));
    expect(byName).toEqual({
      'Summer 10% off': 'active',
      'Winter sale': 'completed',
      winter_partner: 'pending',
      Autumn: 'completed',
      Spring: 'completed',
      'Open house': 'active',
      Launch: 'active',
    });
  });

  for (const column of Object.keys(sortKeys)) {
    for (const order of ['asc', 'desc'] as const) {
      it(`sorts by ${column} ${order} across pages without gaps or repeats`, async () => {
        const items = await all(`sort=${column}&order=${order}`);
        expect(items).toHaveLength(7);
        expect(new Set(items.map((l) => l.id)).size).toBe(7);
        expectSorted(items, column, order);
      });
    }
  }

  it('lists newest first by default', async () => {
    const items = await all('');
    expectSorted(items, 'created_at', 'desc');
    expect(items[0]!.name).toBe('Launch');
  });

  it('searches by part of the name in any case, with % and _ taken literally', async () => {
    expect((await all('q=WINTER')).map((l) => l.name).sort()).toEqual(['Winter sale', 'winter_partner']);
    expect((await all('q=10%25')).map((l) => l.name)).toEqual(['Summer 10% off']);
    expect((await all('q=r_p')).map((l) => l.name)).toEqual(['winter_partner']);
    expect(await all('q=nothing-like-this')).toEqual([]);
  });

  it('filters by type and status, combined with search', async () => {
    expect((await all('type=multi_use&sort=name')).map((l) => l.name)).toEqual(['Autumn', 'Open house', 'Winter sale']);
    expect((await all('status=active&sort=name')).map((l) => l.name)).toEqual([
      'Launch',
      'Open house',
      'Summer 10% off',
    ]);
    expect((await all('status=pending')).map((l) => l.name)).toEqual(['winter_partner']);
    expect((await all('status=completed&type=single_use')).map((l) => l.name)).toEqual(['Spring']);
    expect((await all('q=winter&status=completed')).map((l) => l.name)).toEqual(['Winter sale']);
  });

  it.each([
    ['an unknown sort column', 'sort=colour'],
    ['an unknown status', 'status=paused'],
    ['an unknown order', 'order=sideways'],
    ['an unknown filter', 'owner=me'],
    ['a cursor from nowhere', 'cursor=bm9wZQ'],
    [
      'a cursor of the wrong type for the sort',
      `sort=starts_at&cursor=${Buffer.from(JSON.stringify(['not a time', '1'])).toString('base64url')}`,
    ],
  ])('answers 400 for %s', async (_label, query) => {
    const res = await t.call('agent', { method: 'GET', url: `/v1/lists?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('validation_failed');
  });
});
