import { loadConfig } from '@keel/config';
import { decisioningConfigSchema } from '@keel/decisioning-feature';
import { governanceConfigSchema } from '@keel/governance-feature';
import { ingestionConfigSchema } from '@keel/ingestion-feature';
import { retrievalConfigSchema } from '@keel/retrieval-feature';
import { startServiceUnderTest } from '@keel/testing';
import { workflowConfigSchema } from '@keel/workflow-runtime';
import type { DynamicModule } from '@nestjs/common';
import { parser } from '@prometheus-io/lezer-promql';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AppModule as DecisioningApp } from '../apps/decisioning/src/app.module';
import { AppModule as GovernanceApp } from '../apps/governance/src/app.module';
import { AppModule as IngestionApp } from '../apps/ingestion/src/app.module';
import { AppModule as RetrievalApp } from '../apps/retrieval/src/app.module';
import { AppModule as WorkflowApp } from '../apps/workflow/src/app.module';

// Every query of every Grafana dashboard and every alert rule names metrics the services really export:
// the five services are booted on real Kafka and Postgres, their /metrics scraped, and each PromQL
// expression parsed by Prometheus' own grammar. A renamed metric makes a panel empty and an alert silent
// without any error anywhere else — this test is where it shows.
const root = join(__dirname, '..');

const services: Record<string, (env: Record<string, string>) => DynamicModule> = {
  ingestion: (env) => IngestionApp.forRoot(loadConfig(ingestionConfigSchema, env)),
  retrieval: (env) => RetrievalApp.forRoot(loadConfig(retrievalConfigSchema, env)),
  decisioning: (env) => DecisioningApp.forRoot(loadConfig(decisioningConfigSchema, env)),
  workflow: (env) => WorkflowApp.forRoot(loadConfig(workflowConfigSchema, env)),
  governance: (env) =>
    GovernanceApp.forRoot(
      loadConfig(governanceConfigSchema, {
        ...env,
        GOVERNANCE_AUDIT_KEY: 'monitoring-test-audit-key-of-32-chars!',
      }),
    ),
};

/** Series Prometheus itself writes for every scrape target. */
const scrapeSeries = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** The series names an exposition yields: `# TYPE` lines, histograms and summaries expanded. */
function exportedSeries(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

/** The metric names a PromQL expression selects; Grafana's variables replaced by values of their kind. */
function selectedMetrics(expression: string): string[] {
  const promql = expression.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?\w+\}?/g, 'x');
  const tree = parser.parse(promql);
  const names: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL does not parse at ${cursor.from}: ${promql}`);
    if (cursor.name === 'VectorSelector') {
      const metric = cursor.node.getChild('Identifier');
      if (metric) names.push(promql.slice(metric.from, metric.to));
    }
  } while (cursor.next());
  return names;
}

interface Query {
  readonly where: string;
  readonly expression: string;
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
            if (key === 'expr' && typeof value === 'string')
              queries.push({ where: `${file}${path}`, expression: value });
            else if (
              key === 'query' &&
              typeof value === 'string' &&
              /[({]/.test(value) &&
              !value.startsWith('label_values')
            )
              queries.push({ where: `${file}${path}`, expression: value });
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
  const exported = new Set<string>(scrapeSeries);

  beforeAll(async () => {
    for (const [service, module] of Object.entries(services)) {
      const started = await startServiceUnderTest(service, module);
      try {
        const response = await fetch(`${started.url}/metrics`);
        for (const name of exportedSeries(await response.text())) exported.add(name);
      } finally {
        await started.close();
      }
    }
  });

  it('finds the queries it checks', () => {
    expect(dashboardQueries().length).toBeGreaterThan(10);
    expect(alertQueries().length).toBeGreaterThan(5);
  });

  it('every dashboard query selects exported metrics only', () => {
    const unknown = dashboardQueries().flatMap(({ where, expression }) =>
      selectedMetrics(expression)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );

    expect(unknown).toEqual([]);
  });

  it('every alert rule selects exported metrics only', () => {
    const unknown = alertQueries().flatMap(({ where, expression }) =>
      selectedMetrics(expression)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );

    expect(unknown).toEqual([]);
  });
});
