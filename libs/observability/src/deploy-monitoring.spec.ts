import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// Checks the shape of deploy/ (Prometheus config, alert rules, Grafana dashboards). Whether their queries
// name metrics and labels the services really export is checked against the booted services by
// tools/monitoring.integration-spec.ts; promtool checks the rules and runs their unit tests.
const deploy = join(__dirname, '..', '..', '..', 'deploy');
const root = join(deploy, '..');

const keelServices: Record<string, number> = {
  ingestion: 3001,
  retrieval: 3002,
  decisioning: 3003,
  workflow: 3004,
  governance: 3005,
};

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

describe('Grafana dashboards', () => {
  it('include the pipeline and workflows dashboards, each with a unique, stable uid', () => {
    const uids = dashboards.map(({ dashboard }) => dashboard.uid);
    expect(uids).toEqual(expect.arrayContaining(['keel-pipeline', 'keel-workflows']));
    expect(new Set(uids).size).toBe(uids.length);
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

  it.each(rules)('$alert: is well formed', (rule) => {
    expect(rule.alert).toMatch(/^Keel[A-Z][A-Za-z]+$/);
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.description).toBeTruthy();
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

describe('service memory limits', () => {
  it('gives each service the same memory limit in docker-compose as in its pod, so Node sizes its heap alike', () => {
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { mem_limit?: string }>;
    };
    for (const service of Object.keys(keelServices)) {
      const pod = readFileSync(join(deploy, 'k8s', `${service}.yaml`), 'utf8');
      const podLimit = /limits: \{ memory: (\d+)Mi \}/.exec(pod)?.[1];
      expect({ service, compose: compose.services[service]?.mem_limit }).toEqual({
        service,
        compose: `${podLimit}m`,
      });
    }
  });
});
