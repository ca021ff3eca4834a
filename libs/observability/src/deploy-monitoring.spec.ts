import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// Checks deploy/ (Prometheus config, alert rules, Grafana dashboards) against the metrics the services
// export. It lives here because the unit tier runs specs under apps/, libs/ and tools/ only, and this lib
// owns the metric conventions.
const deploy = join(__dirname, '..', '..', '..', 'deploy');
const root = join(deploy, '..');

// Every metric a query may name, with its own labels. Every series also has `service` (the registry's
// default label) and the scrape target's `job` and `instance`; histograms add `le` to their buckets.
const catalog: Record<string, { type: 'counter' | 'gauge' | 'histogram'; labels: readonly string[] }> = {
  up: { type: 'gauge', labels: [] },
  keel_messages_consumed_total: { type: 'counter', labels: ['topic', 'outcome'] },
  keel_message_handle_duration_seconds: { type: 'histogram', labels: ['topic'] },
  keel_messages_published_total: { type: 'counter', labels: ['topic'] },
  keel_dlq_messages_total: { type: 'counter', labels: ['topic'] },
  keel_outbox_pending_messages: { type: 'gauge', labels: [] },
  keel_outbox_published_total: { type: 'counter', labels: [] },
  kafka_consumergroup_lag: { type: 'gauge', labels: ['consumergroup', 'topic', 'partition'] },
  keel_workflow_instances_started_total: { type: 'counter', labels: ['template'] },
  keel_workflow_instances_finished_total: { type: 'counter', labels: ['template', 'status'] },
  keel_workflow_instances_active: { type: 'gauge', labels: ['template'] },
  keel_workflow_step_duration_seconds: { type: 'histogram', labels: ['template', 'kind'] },
  keel_workflow_step_retries_total: { type: 'counter', labels: ['template'] },
  keel_workflow_compensations_total: { type: 'counter', labels: ['template'] },
  keel_workflow_approvals_waiting: { type: 'gauge', labels: [] },
};
const everySeriesLabels = ['service', 'job', 'instance'];
const keelServices: Record<string, number> = {
  ingestion: 3001,
  retrieval: 3002,
  decisioning: 3003,
  workflow: 3004,
  governance: 3005,
};

const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

interface QueryReferences {
  readonly metrics: string[];
  /** Labels named in matchers and in by/without/on/ignoring clauses. */
  readonly labels: string[];
}

/** The metric and label names a PromQL expression refers to (enough PromQL for our dashboards and rules). */
function references(expr: string): QueryReferences {
  const metrics: string[] = [];
  const labels: string[] = [];
  let rest = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, names: string) => {
      labels.push(
        ...names
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean),
      );
      return ' ';
    })
    .replace(/([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g, (_, metric: string | undefined, matchers: string) => {
      if (metric) metrics.push(metric);
      for (const [, label] of matchers.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.push(label);
      return ' ';
    });
  rest = rest.replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, ' ');
  for (const match of rest.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const name = match[0];
    const next = rest.slice((match.index ?? 0) + name.length).trimStart();
    if (next.startsWith('(') || keywords.has(name)) continue;
    metrics.push(name);
  }
  return { metrics, labels };
}

/** Problems with an expression: unknown metrics, or labels that none of its metrics has. */
function queryProblems(expr: string): string[] {
  const { metrics, labels } = references(expr);
  const problems: string[] = [];
  const known = new Set(everySeriesLabels);
  for (const series of metrics) {
    const histogram = /^(.*)_(bucket|sum|count)$/.exec(series);
    const base = histogram && catalog[histogram[1]]?.type === 'histogram' ? histogram[1] : series;
    const entry = catalog[base];
    if (!entry) {
      problems.push(`unknown metric ${series} in: ${expr}`);
      continue;
    }
    entry.labels.forEach((label) => known.add(label));
    if (histogram?.[2] === 'bucket') known.add('le');
  }
  if (metrics.length === 0) problems.push(`no metric in: ${expr}`);
  for (const label of labels) if (!known.has(label)) problems.push(`unknown label ${label} in: ${expr}`);
  return problems;
}

interface Panel {
  readonly id: number;
  readonly title: string;
  readonly datasource?: { uid: string };
  readonly targets?: ReadonlyArray<{ expr: string; refId: string }>;
  readonly panels?: readonly Panel[];
}

interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating?: { list: ReadonlyArray<{ name: string; type: string; query?: unknown }> };
}

const dashboardsDir = join(deploy, 'grafana', 'dashboards');
const dashboards = readdirSync(dashboardsDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard,
  }));

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

describe('PromQL reference extraction', () => {
  it('finds metrics and labels, and skips functions, keywords, durations and strings', () => {
    expect(
      references(
        'histogram_quantile(0.99, sum by (le, topic) (rate(keel_message_handle_duration_seconds_bucket{service=~"$service"}[5m]))) > 0 and up == 1',
      ),
    ).toEqual({
      metrics: ['keel_message_handle_duration_seconds_bucket', 'up'],
      labels: ['le', 'topic', 'service'],
    });
  });

  it('reports unknown metrics and labels', () => {
    expect(queryProblems('sum by (tenant) (rate(keel_cases_total[5m]))')).toEqual([
      'unknown metric keel_cases_total in: sum by (tenant) (rate(keel_cases_total[5m]))',
      'unknown label tenant in: sum by (tenant) (rate(keel_cases_total[5m]))',
    ]);
  });
});

describe('Grafana dashboards', () => {
  it('include the pipeline and workflows dashboards, each with a unique, stable uid', () => {
    expect(dashboards.map(({ file }) => file).sort()).toEqual(['pipeline.json', 'workflows.json']);
    const uids = dashboards.map(({ dashboard }) => dashboard.uid);
    expect(uids).toEqual(expect.arrayContaining(['keel-pipeline', 'keel-workflows']));
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(dashboards)('$file: every query names only exported metrics and their labels', ({ dashboard }) => {
    const queries = panelsOf(dashboard.panels).flatMap((panel) =>
      (panel.targets ?? []).map((target) => target.expr),
    );
    for (const variable of dashboard.templating?.list ?? []) {
      if (variable.type !== 'query') continue;
      const query = (variable.query as { query: string }).query;
      const [, metric, label] = /^label_values\((\w+),\s*(\w+)\)$/.exec(query) ?? [];
      queries.push(`${metric ?? query}{${label ?? ''}=""}`);
    }

    expect(queries.length).toBeGreaterThan(0);
    expect(queries.flatMap(queryProblems)).toEqual([]);
  });

  it.each(dashboards)(
    '$file: panels have unique ids, a title, queries, and the provisioned data source',
    ({ dashboard }) => {
      const panels = panelsOf(dashboard.panels);
      const datasource = parse(
        readFileSync(join(deploy, 'grafana/provisioning/datasources/prometheus.yaml'), 'utf8'),
      ) as {
        datasources: Array<{ uid: string }>;
      };

      expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
      for (const panel of panels) {
        expect(panel.title).not.toBe('');
        expect(panel.targets?.length).toBeGreaterThan(0);
        expect(panel.datasource?.uid).toBe(datasource.datasources[0]?.uid);
      }
    },
  );
});

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: { severity?: string };
  readonly annotations?: { summary?: string; description?: string };
}

describe('Prometheus alert rules', () => {
  const { groups } = parse(readFileSync(join(deploy, 'prometheus', 'alerts.yml'), 'utf8')) as {
    groups: Array<{ name: string; rules: Rule[] }>;
  };
  const rules = groups.flatMap((group) => group.rules);

  it('cover services down, dead letters, outbox backlog, consumer lag and stuck or failing workflows', () => {
    const expressions = rules.map((rule) => rule.expr).join('\n');
    for (const metric of [
      'up',
      'keel_dlq_messages_total',
      'keel_outbox_pending_messages',
      'kafka_consumergroup_lag',
      'keel_workflow_instances_active',
      'keel_workflow_instances_finished_total',
    ]) {
      expect(expressions).toMatch(new RegExp(`\\b${metric}\\b`));
    }
  });

  it.each(rules)('$alert: is well formed and names only exported metrics', (rule) => {
    expect(rule.alert).toMatch(/^Keel[A-Z][A-Za-z]+$/);
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.description).toBeTruthy();
    expect(queryProblems(rule.expr)).toEqual([]);
  });

  it('have unique names', () => {
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
  });
});

describe('Prometheus scrape config', () => {
  it('scrapes each service on the port docker-compose gives it, with its rule file loaded', () => {
    const config = parse(readFileSync(join(deploy, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        static_configs: Array<{ targets: string[]; labels: { service: string } }>;
      }>;
    };
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, unknown> }>;
    };
    const keel = config.scrape_configs.find((scrape) => scrape.job_name === 'keel');

    expect(config.rule_files).toEqual(['alerts.yml']);
    const targets = Object.fromEntries(
      (keel?.static_configs ?? []).map(({ targets: [target], labels }) => [labels.service, target]),
    );
    expect(targets).toEqual(
      Object.fromEntries(
        Object.entries(keelServices).map(([service, port]) => [service, `${service}:${port}`]),
      ),
    );
    for (const [service, port] of Object.entries(keelServices)) {
      expect(compose.services[service]?.environment).toEqual(
        expect.objectContaining({ SERVICE: service, PORT: port }),
      );
    }
  });
});
