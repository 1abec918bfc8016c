// The monitoring kit in docs/monitoring/: the alerting rules and every query of the Grafana
// dashboard pass Prometheus' own checker (promtool), and name only metrics /metrics serves.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';

const PROMTOOL = '/usr/bin/promtool';
const docs = (name: string) => new URL(`../../docs/monitoring/${name}`, import.meta.url);
const t = useTestApp();
const scratch = mkdtempSync(path.join(tmpdir(), 'promo-monitoring-'));

beforeAll(() => {
  if (!existsSync(PROMTOOL))
    throw new Error(`${PROMTOOL} is missing: install Debian's prometheus package (apt-get install prometheus)`);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const checkRules = (file: string) => spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });

/** The PromQL of every panel, with Grafana's interval variable filled in. */
function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(docs('grafana-dashboard.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => target.expr.replaceAll('$__rate_interval', '5m')),
  );
}

/** Metric names a query refers to (identifiers followed by `{`, `[` or a space/paren, not functions or labels). */
function metricNames(query: string): string[] {
  const withoutLabels = query.replace(/\{[^}]*\}/g, '{}').replace(/"[^"]*"/g, '""');
  const words = withoutLabels.match(/[a-z_][a-z0-9_]*/g) ?? [];
  const keywords = new Set([
    'sum',
    'max',
    'min',
    'by',
    'without',
    'rate',
    'increase',
    'histogram_quantile',
    'offset',
    'and',
    'or',
    'le',
    'd',
    'm',
    'h',
    's',
  ]);
  return words.filter(
    (word) =>
      !keywords.has(word) &&
      /_/.test(word) &&
      !['route', 'status', 'task', 'state', 'instance', 'kind', 'result', 'reason', 'limit'].includes(word),
  );
}

describe('docs/monitoring', () => {
  it('alerts.yml passes promtool check rules', () => {
    const checked = checkRules(docs('alerts.yml').pathname);
    expect(checked.status, `${checked.stdout}${checked.stderr}`).toBe(0);
    expect(checked.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('every query of the Grafana dashboard is valid PromQL to promtool', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    const rules = ['groups:', '  - name: dashboard', '    rules:'];
    for (const [i, query] of queries.entries()) {
      rules.push(`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(query)}`);
    }
    const file = path.join(scratch, 'dashboard-rules.yml');
    writeFileSync(file, `${rules.join('\n')}\n`);
    const checked = checkRules(file);
    expect(checked.status, `${checked.stdout}${checked.stderr}`).toBe(0);
  });

  it('names only metrics that /metrics serves', async () => {
    const scrape = (await t.call(null, { method: 'GET', url: '/metrics' })).body;
    const served = new Set(
      [...scrape.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!],
      ),
    );
    const alerts = readFileSync(docs('alerts.yml'), 'utf8')
      .match(/expr: .*(?:\n {10}.*)*/g)!
      .join('\n');
    const named = new Set([...dashboardQueries(), alerts].flatMap(metricNames));
    expect(named.size).toBeGreaterThan(10);
    for (const name of named) expect(served.has(name), `${name} is not in /metrics`).toBe(true);
  });
});
