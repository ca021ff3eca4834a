import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AccessTokenSigner, accessConfigSchema } from '@keel/access';
import { loadConfig } from '@keel/config';
import { TargetSystems, WorkflowKpiObserver } from '@keel/simulators';
import type { INestApplication } from '@nestjs/common';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { Pool } from 'pg';
import { prepareDemoWorkspace } from './demo-definitions';
import { type ServiceName, bootOrder, keepSignalListener, startService } from './demo-services';
import { type DemoSummary, decisionProgress, instanceOutcomes, summarize } from './demo-summary';
import { readSamples, replay } from './demo-replay';
import { EmbeddedInfrastructure, inProcessBrokerAddress } from './embedded-infrastructure';

interface DemoOptions {
  readonly exit: boolean;
  readonly portBase: number;
  readonly data: string;
  readonly json?: string;
  readonly progress: boolean;
  readonly logLevel: string;
  readonly settleTimeoutMs: number;
}

const tenant = 'acme';

async function runDemo(options: DemoOptions): Promise<number> {
  const started = performance.now();
  const say = (text: string) =>
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
  const work = mkdtempSync(join(tmpdir(), 'keel-demo-'));
  const infrastructure = new EmbeddedInfrastructure();
  const apps: { name: ServiceName; app: INestApplication }[] = [];
  let systems: TargetSystems | undefined;
  let observer: WorkflowKpiObserver | undefined;
  let metricsServer: Server | undefined;
  let sql: Pool | undefined;

  const stop = async () => {
    for (const { app } of [...apps].reverse()) await app.close().catch(() => undefined);
    await observer?.stop();
    await new Promise<void>((done) => (metricsServer ? metricsServer.close(() => done()) : done()));
    await systems?.stop();
    await sql?.end().catch(() => undefined);
    await infrastructure.stop();
    rmSync(work, { recursive: true, force: true });
  };

  // Ctrl-C at any point stops everything this run started (the services, the simulators, the Postgres child
  // and its data); while serving it is the way to end the demo.
  let signalled: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (signalled = resolve));
  let serving = false;
  const onSignal = () => {
    signalled();
    if (serving) return;
    say('keel demo: interrupted; stopping…');
    void stop().finally(() => process.exit(130));
  };
  keepSignalListener(onSignal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say('keel demo: starting embedded Postgres and the in-process event bus…');
    await infrastructure.start();
    // One connection: the demo's own statements queue behind each other, as the services' pools do.
    sql = new Pool({ connectionString: infrastructure.databaseUrl, max: 1 });
    // An idle connection dropped by Postgres stopping is no failure of the demo's; queries still report theirs.
    sql.on('error', () => undefined);
    const database = sql;
    const workspace = await prepareDemoWorkspace((text, params) => database.query(text, params), work);
    systems = new TargetSystems({
      recordRemediation: workspace.recordRemediation,
      // A SKU the warehouse has run out of, so an order fails where a real one would.
      inventory: { stock: { 'SKU-135': 0 } },
    });
    await systems.start();
    observer = new WorkflowKpiObserver(infrastructure.bus.client('keel-kpi-observer'), systems.kpis);
    await observer.start();

    const sharedKey = randomBytes(32).toString('hex');
    const common: Record<string, string> = {
      HOST: '127.0.0.1',
      DATABASE_URL: infrastructure.databaseUrl,
      KAFKA_BROKERS: inProcessBrokerAddress,
      KEEL_TOPIC_NAMESPACE: '',
      LOG_LEVEL: options.logLevel,
      // Every poll of every service is a statement on the one embedded session: 50 ms keeps hops short
      // without the polls crowding out the work.
      OUTBOX_POLL_MS: '50',
      DECISIONING_QUEUE_POLL_MS: '50',
      CONSUMER_RETRY_INITIAL_MS: '100',
      ACCESS_SHARED_KEY: sharedKey,
    };
    const port = (offset: number) => String(options.portBase === 0 ? 0 : options.portBase + offset);
    const urls: Partial<Record<ServiceName, string>> = {};
    const envFor = (name: ServiceName): Record<string, string> => {
      switch (name) {
        case 'retrieval':
          return { ...common, PORT: port(1) };
        case 'governance':
          return { ...common, PORT: port(4), GOVERNANCE_AUDIT_KEY: randomBytes(32).toString('hex') };
        case 'workflow':
          return {
            ...common,
            PORT: port(3),
            WORKFLOW_HTTP_SERVICES: systems?.workflowHttpServices() ?? '',
            WORKFLOW_DEFINITIONS_DIR: workspace.definitionsDir,
            WORKFLOW_POSTGRES_STATEMENTS_FILE: workspace.statementsFile,
            WORKFLOW_TASK_LEASE_GRACE_MS: '1000',
          };
        case 'decisioning':
          return { ...common, PORT: port(2), RETRIEVAL_URL: urls.retrieval ?? '' };
        case 'ingestion':
          return { ...common, PORT: port(0) };
      }
    };
    for (const name of bootOrder) {
      say(`keel demo: starting ${name}…`);
      const app = await startService(name, envFor(name), options.logLevel);
      apps.push({ name, app });
      urls[name] = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    }
    const booted = performance.now();

    const signer = new AccessTokenSigner(loadConfig(accessConfigSchema, { ACCESS_SHARED_KEY: sharedKey }));
    const operator = () =>
      signer.bearer({ subject: 'keel-demo', tenant, roles: ['operator'], ttlSeconds: 3_600 });
    const lines = readSamples(options.data);
    say(`keel demo: replaying ${lines.length} bundled events through ingestion (${urls.ingestion})`);
    const results = await replay(lines, systems, `${urls.ingestion}/v1/events`, operator, options.progress);
    const refused = results.filter((result) => result.outcome === 'rejected' || result.outcome === 'failed');
    for (const result of refused)
      say(`  line ${result.line}: ${result.outcome} ${result.error}: ${result.message}`);

    const settled = await settle(infrastructure, options.settleTimeoutMs, options.progress);
    const summary = await summarize(infrastructure.bus, systems);
    // Governance's own inbox, asked the way an approver would: it should hold what the event log says waits.
    const approver = () =>
      signer.bearer({ subject: 'keel-demo-approver', tenant, roles: ['approver'], ttlSeconds: 3_600 });
    const inbox = await fetch(`${urls.governance}/v1/approvals?status=pending&limit=500`, {
      headers: { authorization: await approver() },
    });
    // `GET /v1/approvals` answers the items as an array.
    const governanceInboxPending = inbox.ok ? ((await inbox.json()) as unknown[]).length : null;
    const wallSeconds = (performance.now() - started) / 1000;
    const report = {
      settled,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      bootSeconds: Math.round(((booted - started) / 1000) * 10) / 10,
      ingested: countBy(results.map((result) => result.outcome)),
      ...summary,
      governanceInboxPending,
      urls,
    };
    process.stdout.write(formatSummary(report));
    if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    if (options.exit) {
      await stop();
      return settled ? 0 : 1;
    }

    const kpiRegistry = systems.registry;
    metricsServer = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      void kpiRegistry.metrics().then((text) => {
        response.writeHead(200, { 'content-type': kpiRegistry.contentType }).end(text);
      });
    });
    await new Promise<void>((done) => metricsServer?.listen(Number(port(9)), '127.0.0.1', () => done()));
    const kpiAddress = metricsServer.address();
    const kpiPort = typeof kpiAddress === 'object' && kpiAddress ? kpiAddress.port : 0;
    say(
      [
        '',
        `serving until Ctrl-C: governance API ${urls.governance}/docs, workflow API ${urls.workflow}/instances,`,
        `each service's /metrics (e.g. ${urls.workflow}/metrics), KPIs http://127.0.0.1:${kpiPort}/metrics`,
        `operator token (tenant ${tenant}): ${await operator()}`,
        `approver token: ${await approver()}`,
        `the approvals inbox: curl -H "authorization: <approver token>" ${urls.governance}/v1/approvals`,
        `approve one: curl -XPOST -H "authorization: <approver token>" -H 'content-type: application/json' \\`,
        `  -d '{"reason":"checked"}' ${urls.governance}/v1/approvals/<id, URL-encoded>/approve`,
      ].join('\n'),
    );
    serving = true;
    await stopRequested;
    say('keel demo: stopping…');
    await stop();
    return 0;
  } catch (error) {
    say(`keel demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stop().catch(() => undefined);
    return 1;
  }
}

/**
 * Waits until the pipeline rests: every consumer group has committed everything, every trigger has its
 * decision, no instance is still running (each finished or waits for a person), and the bus has taken no
 * record for a while (every outbox drained).
 */
async function settle(
  infrastructure: EmbeddedInfrastructure,
  timeoutMs: number,
  showProgress: boolean,
): Promise<boolean> {
  const { bus } = infrastructure;
  const deadline = Date.now() + timeoutMs;
  const quietMs = 1_000;
  let lastCount = -1;
  let quietSince = Date.now();
  const bar = new SingleBar({
    format: 'deciding   [{bar}] {value}/{total} decisions  workflows at rest {resting}/{instances}',
    stream: process.stderr,
    hideCursor: true,
  });
  if (showProgress) bar.start(1, 0, { resting: 0, instances: 0 });
  try {
    while (Date.now() < deadline) {
      const count = bus.topicNames().reduce((sum, topic) => sum + bus.records(topic).length, 0);
      if (count !== lastCount) {
        lastCount = count;
        quietSince = Date.now();
      }
      const outcomes = [...instanceOutcomes(bus).values()];
      const running = outcomes.filter(({ outcome }) => outcome === 'in-progress').length;
      const { triggers, decided } = decisionProgress(bus);
      if (showProgress) {
        bar.setTotal(Math.max(1, triggers));
        bar.update(decided, { resting: outcomes.length - running, instances: outcomes.length });
      }
      const resting = running === 0 && bus.backlog() === 0 && decided >= triggers;
      if (resting && Date.now() - quietSince >= quietMs) return true;
      await new Promise((done) => setTimeout(done, 200));
    }
    return false;
  } finally {
    if (showProgress) bar.stop();
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function formatSummary(
  report: DemoSummary & {
    settled: boolean;
    wallSeconds: number;
    bootSeconds: number;
    ingested: Record<string, number>;
    governanceInboxPending: number | null;
  },
): string {
  const line = (label: string, value: unknown) =>
    `  ${label.padEnd(28)} ${typeof value === 'string' ? value : JSON.stringify(value)}\n`;
  const kpi = (value: number | null, unit = '') => (value === null ? 'n/a' : `${value}${unit}`);
  return [
    '\nkeel demo summary\n',
    line('ingested', report.ingested),
    line('cases', `${report.cases} (${report.caseEvents} case events)`),
    line('decisions by action', report.decisionsByAction),
    line('decisions held for approval', report.decisionsHeldForApproval),
    ...Object.entries(report.workflowsByOutcome).map(([template, outcomes]) =>
      line(`workflows ${template}`, outcomes),
    ),
    line(
      'approvals pending',
      `${report.approvalsPending} (governance inbox: ${report.governanceInboxPending ?? 'unreadable'})`,
    ),
    line('dead letters', report.deadLetters),
    '  KPIs\n',
    line('  order cycle time (mean)', kpi(report.kpis.orderCycleSecondsMean, ' s')),
    line('  on-time delivery rate', kpi(report.kpis.onTimeDeliveryRate)),
    line('  cost per order', kpi(report.kpis.costPerOrderEur, ' EUR')),
    line('  escalation latency (mean)', kpi(report.kpis.escalationLatencySecondsMean, ' s')),
    line('  remediation success rate', kpi(report.kpis.remediationSuccessRate)),
    line('  exceptions handled', kpi(report.kpis.exceptionsHandled)),
    line('  first contact (mean)', kpi(report.kpis.firstContactSecondsMean, ' s')),
    line('  queue utilisation (max)', kpi(report.kpis.queueUtilisationMax)),
    line('  SLA breaches', kpi(report.kpis.slaBreaches)),
    line('settled', report.settled),
    line('wall time', `${report.wallSeconds} s (boot ${report.bootSeconds} s; target < 30 s)`),
  ].join('');
}

const program = new Command()
  .name('keel-demo')
  .description('The whole Keel pipeline in one process on embedded parts, replaying the bundled sample data')
  .option('--exit', 'exit after the summary instead of serving until Ctrl-C', false)
  .option(
    '--port-base <port>',
    'ingestion on this port, retrieval +1, decisioning +2, workflow +3, governance +4, KPIs +9 (0: any free ports)',
    '3101',
  )
  .option('--data <dir>', 'folder of the sample JSON-lines files', resolve(__dirname, '../../data/samples'))
  .option('--json <file>', 'also write the summary as JSON')
  .option('--no-progress', 'no progress bar')
  .option('--log-level <level>', "the services' log level", 'error')
  .option('--settle-timeout-ms <ms>', 'longest wait for the pipeline to come to rest', '60000');

program.parse();
const raw = program.opts<{
  exit: boolean;
  portBase: string;
  data: string;
  json?: string;
  progress: boolean;
  logLevel: string;
  settleTimeoutMs: string;
}>();
void runDemo({
  ...raw,
  portBase: Number(raw.portBase),
  settleTimeoutMs: Number(raw.settleTimeoutMs),
}).then((code) => process.exit(code));
