/** @jest-environment ./libs/retrieval/data-access/src/onnx-runtime.test-environment.js */
import { METRICS_REGISTRY } from '@keel/observability';
import { createKpiMetrics } from '@keel/simulators';
import { parser } from '@prometheus-io/lezer-promql';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { KeelPlatform, serviceNames } from '../test/e2e/fixtures/keel-platform';

// Every query of every Grafana dashboard and every alert rule names metrics the services really export:
// the five services are booted on real Kafka and Postgres, their /metrics scraped, and each PromQL
// expression parsed by Prometheus' own grammar. A renamed metric makes a panel empty and an alert silent
// without any error anywhere else — this test is where it shows.
const root = join(__dirname, '..');

/** What a query may name of a metric: its series and its labels. */
interface CatalogEntry {
  readonly labels: ReadonlySet<string>;
}

/** Series Prometheus itself writes for every scrape target. */
const scrapeSeries = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];
/** Every series has `service` (the registry's default label) and the scrape target's `job` and `instance`. */
const everySeriesLabels = ['service', 'job', 'instance'];

/** The series a service's registry exports, histograms and summaries expanded, each with its label names. */
function catalogOf(registry: Registry): Map<string, CatalogEntry> {
  const catalog = new Map<string, CatalogEntry>();
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    const labels = (metric as unknown as { labelNames: readonly string[] }).labelNames;
    catalog.set(name, { labels: new Set(labels) });
    if (type === 'histogram') {
      catalog.set(`${name}_bucket`, { labels: new Set([...labels, 'le']) });
      for (const suffix of ['_sum', '_count']) catalog.set(name + suffix, { labels: new Set(labels) });
    }
    if (type === 'summary') {
      catalog.set(name, { labels: new Set([...labels, 'quantile']) });
      for (const suffix of ['_sum', '_count']) catalog.set(name + suffix, { labels: new Set(labels) });
    }
  }
  return catalog;
}

/** The metric names and label names a PromQL expression uses; Grafana's variables replaced by values of their kind. */
function references(expression: string): { metrics: string[]; labels: string[] } {
  const promql = expression.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?\w+\}?/g, 'x');
  const tree = parser.parse(promql);
  const metrics: string[] = [];
  const labels: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL does not parse at ${cursor.from}: ${promql}`);
    if (cursor.name === 'VectorSelector') {
      const metric = cursor.node.getChild('Identifier');
      if (metric) metrics.push(promql.slice(metric.from, metric.to));
    }
    if (cursor.name === 'LabelName') labels.push(promql.slice(cursor.from, cursor.to));
  } while (cursor.next());
  return { metrics, labels };
}

/** Unknown metrics, and labels none of the expression's metrics has. */
function problemsOf(expression: string, catalog: ReadonlyMap<string, CatalogEntry>): string[] {
  const { metrics, labels } = references(expression);
  const known = new Set(everySeriesLabels);
  const problems: string[] = [];
  for (const metric of metrics) {
    const entry = catalog.get(metric);
    if (!entry) problems.push(`unknown metric ${metric}`);
    entry?.labels.forEach((label) => known.add(label));
  }
  if (metrics.length === 0) problems.push('no metric');
  for (const label of labels) if (!known.has(label)) problems.push(`unknown label ${label}`);
  return problems;
}

interface Query {
  readonly where: string;
  readonly expression: string;
}

/** A panel's query, or a template variable's `label_values(metric, label)` read as a selector of both. */
function queryOf(key: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (key === 'expr') return value;
  const [, metric, label] = /^label_values\((\w+),\s*(\w+)\)$/.exec(value) ?? [];
  return key === 'query' && metric && label ? `${metric}{${label}=""}` : undefined;
}

function dashboardQueries(): Query[] {
  const dir = join(root, 'deploy', 'grafana', 'dashboards');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      const queries: Query[] = [];
      const visit = (node: unknown, path: string): void => {
        if (Array.isArray(node)) node.forEach((item, index) => visit(item, `${path}[${index}]`));
        else if (node && typeof node === 'object') {
          for (const [key, value] of Object.entries(node)) {
            const expression = queryOf(key, value);
            if (expression) queries.push({ where: `${file}${path}`, expression });
            else visit(value, `${path}.${key}`);
          }
        }
      };
      visit(JSON.parse(readFileSync(join(dir, file), 'utf8')), '');
      return queries;
    });
}

function alertQueries(): Query[] {
  const rules = parseYaml(readFileSync(join(root, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }>;
  };
  return rules.groups.flatMap((group) =>
    group.rules.map((rule) => ({ where: `alerts.yml ${rule.alert ?? rule.record}`, expression: rule.expr })),
  );
}

describe('monitoring: dashboards and alerts use metrics the services export', () => {
  const catalog = new Map<string, CatalogEntry>(scrapeSeries.map((name) => [name, { labels: new Set() }]));

  beforeAll(async () => {
    // The use cases' KPIs are measured by the systems the workflows call (the simulators in the demo and
    // the tests, the real systems' exporters in a deployment), so their names come from that registry.
    const kpis = new Registry();
    createKpiMetrics(kpis);
    for (const [name, entry] of catalogOf(kpis)) catalog.set(name, entry);
    // The five services booted through their service definitions, as main.ts boots them.
    const platform = await KeelPlatform.start(
      {},
      { governance: { GOVERNANCE_AUDIT_KEY: 'monitoring-test-audit-key-of-32-chars!' } },
    );
    try {
      for (const service of serviceNames) {
        const { app, url } = platform.services[service];
        // The registry the service's /metrics serves: it knows label names before any series has a value.
        for (const [name, entry] of catalogOf(app.get<Registry>(METRICS_REGISTRY))) {
          const labels = new Set([...(catalog.get(name)?.labels ?? []), ...entry.labels]);
          catalog.set(name, { labels });
        }
        expect((await fetch(`${url}/metrics`)).status).toBe(200);
      }
    } finally {
      await platform.stop();
    }
  });

  it('reads expressions by Prometheus grammar', () => {
    expect(
      references(
        'histogram_quantile(0.99, sum by (le, topic) (rate(keel_message_handle_duration_seconds_bucket{service=~"$service"}[$__rate_interval]))) > 0 and on(job) up',
      ),
    ).toEqual({
      metrics: ['keel_message_handle_duration_seconds_bucket', 'up'],
      labels: ['le', 'topic', 'service', 'job'],
    });
    expect(problemsOf('sum by (tenant) (rate(keel_cases_total[5m]))', catalog)).toEqual([
      'unknown metric keel_cases_total',
      'unknown label tenant',
    ]);
  });

  it('finds the queries it checks', () => {
    expect(dashboardQueries().length).toBeGreaterThan(10);
    expect(alertQueries().length).toBeGreaterThan(5);
  });

  it('every dashboard query names exported metrics and their labels only', () => {
    const problems = dashboardQueries().flatMap(({ where, expression }) =>
      problemsOf(expression, catalog).map((problem) => `${where}: ${problem}`),
    );

    expect(problems).toEqual([]);
  });

  it('every alert rule names exported metrics and their labels only', () => {
    const problems = alertQueries().flatMap(({ where, expression }) =>
      problemsOf(expression, catalog).map((problem) => `${where}: ${problem}`),
    );

    expect(problems).toEqual([]);
  });
});
