import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApprovalEvent, type CaseEvent, type DecisionRecord, type WorkflowEvent } from '@keel/contracts';
import { metricSum, testTokens, waitFor } from '@keel/testing';
import { OtlpReceiver } from './fixtures/otlp-receiver';
import { PipelinePlatform, type PipelineService } from './fixtures/pipeline-platform';
import { TopicTap } from './fixtures/topic-tap';
import { readSamples, replay } from '../../tools/demo/demo-replay';

/**
 * The platform as it runs: the five services as separate processes on real Kafka and Postgres, the systems
 * the workflows call simulated, the bundled stream of all three use cases sent through ingestion's HTTP API.
 * Where every case went is read from the topics; governance is asked for lineage, the approvals inbox and the
 * audit chain; the trace of one request is followed through an OTLP endpoint.
 */
const tenant = 'acme';
const samples = join(__dirname, '..', '..', 'data', 'samples');
const terminal = new Set(['completed', 'failed', 'compensated', 'cancelled']);

describe('the pipeline end to end: five services as processes, the bundled stream of the three use cases', () => {
  const traces = new OtlpReceiver();
  const traceId = randomBytes(16).toString('hex');
  let platform: PipelinePlatform;
  let topics: PipelinePlatform['topics'];
  let tap: TopicTap;
  const url = (service: PipelineService): string => platform.url(service);

  beforeAll(async () => {
    await traces.start();
    platform = await PipelinePlatform.start({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: traces.endpoint } });
    topics = platform.topics;
    tap = new TopicTap([topics.caseEvents, topics.decisions, topics.workflowEvents, topics.approvals]);
    await tap.start();
  });

  afterAll(async () => {
    await tap?.stop();
    await platform?.stop();
    await traces.stop();
  });

  const get = async <T>(
    service: PipelineService,
    path: string,
    role: 'viewer' | 'operator' = 'viewer',
  ): Promise<T> => {
    const response = await fetch(`${url(service)}${path}`, {
      headers: await testTokens.headers(tenant, role),
    });
    if (!response.ok) throw new Error(`GET ${service} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  const caseIds = () => [...new Set(tap.of<CaseEvent>(topics.caseEvents).map((event) => event.data.caseId))];
  const productionDecisions = () =>
    tap.of<DecisionRecord>(topics.decisions).filter((event) => event.data.mode === 'production');

  /** Approval requests not answered yet, by approval id, with their instance. */
  function openApprovals(): Map<string, string> {
    const open = new Map<string, string>();
    for (const { data } of tap.of<ApprovalEvent>(topics.approvals)) {
      if (data.status === 'requested') open.set(data.approvalId, data.instanceId);
      else open.delete(data.approvalId);
    }
    return open;
  }

  /** Each instance's template, where it rests (as the demo's summary names it) and its last task. */
  function instances(): Map<string, { template: string; outcome: string; lastTask?: string }> {
    const last = new Map<string, WorkflowEvent>();
    const lastTask = new Map<string, string>();
    for (const { data } of tap.of<WorkflowEvent>(topics.workflowEvents)) {
      if ((last.get(data.instanceId)?.sequence ?? -1) < data.sequence) last.set(data.instanceId, data);
      if (data.transition === 'task.succeeded' && data.stepId) lastTask.set(data.instanceId, data.stepId);
    }
    const awaiting = new Set(openApprovals().values());
    return new Map(
      [...last].map(([id, { template, status }]) => {
        const outcome = terminal.has(status)
          ? status
          : awaiting.has(id)
            ? 'awaiting-approval'
            : 'in-progress';
        return [id, { template, outcome, lastTask: lastTask.get(id) }];
      }),
    );
  }

  /** Every case decided, no instance between steps, and nothing new for a while. */
  async function settled(): Promise<void> {
    let seen = -1;
    let quietSince = Date.now();
    await waitFor(
      () => {
        const count = [topics.caseEvents, topics.decisions, topics.workflowEvents, topics.approvals].reduce(
          (sum, topic) => sum + tap.of(topic).length,
          0,
        );
        if (count !== seen) [seen, quietSince] = [count, Date.now()];
        const decided = new Set(productionDecisions().map((event) => event.data.caseId));
        const allDecided = caseIds().every((caseId) => decided.has(caseId));
        const resting = [...instances().values()].every((instance) => instance.outcome !== 'in-progress');
        return Promise.resolve(allDecided && resting && Date.now() - quietSince > 3_000);
      },
      { timeoutMs: 180_000, intervalMs: 250, what: 'the pipeline at rest' },
    );
  }

  it('takes every case of the bundled stream to its outcome', async () => {
    const lines = readSamples(samples);
    const first = lines.find((line) => line.event.system === 'order-system')?.event;
    if (!first) throw new Error('no order in the samples');
    // One request carries a trace context of the test's own, followed through the services below; the
    // replay sends it again, which ingestion answers as a duplicate.
    const traced = await fetch(`${url('ingestion')}/v1/events`, {
      method: 'POST',
      headers: {
        ...(await testTokens.headers(tenant, 'operator')),
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify(first),
    });
    expect(traced.status).toBeLessThan(300);

    const results = await replay(
      lines,
      platform.systems,
      `${url('ingestion')}/v1/events`,
      () => testTokens.bearer(tenant, 'operator'),
      false,
    );
    expect(results.filter((result) => result.outcome === 'failed' || result.outcome === 'rejected')).toEqual(
      [],
    );

    await settled();
    // The outcomes the bundled data is built to reach, the same the embedded demo's summary is checked against
    // (the file says why each count is what it is).
    const expected = JSON.parse(readFileSync(join(samples, 'expected-demo-summary.json'), 'utf8')) as {
      cases: number;
      decisionsByAction: Record<string, number>;
      decisionsHeldForApproval: number;
      workflowsByOutcome: Record<string, Record<string, number>>;
      approvalsPending: number;
    };
    const count = (values: string[]) =>
      values.reduce<Record<string, number>>(
        (counts, value) => ({ ...counts, [value]: (counts[value] ?? 0) + 1 }),
        {},
      );
    const byTemplate: Record<string, Record<string, number>> = {};
    for (const { template, outcome } of instances().values()) {
      byTemplate[template] = {
        ...byTemplate[template],
        [outcome]: (byTemplate[template]?.[outcome] ?? 0) + 1,
      };
    }

    expect(caseIds().length).toBe(expected.cases);
    expect(count(productionDecisions().map((event) => event.data.action.tool))).toEqual(
      expected.decisionsByAction,
    );
    expect(productionDecisions().filter((event) => event.data.requiresApproval).length).toBe(
      expected.decisionsHeldForApproval,
    );
    expect(byTemplate).toEqual(expected.workflowsByOutcome);
    expect(openApprovals().size).toBe(expected.approvalsPending);
  });

  it('lists in the approvals inbox exactly what waits for a person, and each approval resumes its case', async () => {
    const held = productionDecisions().filter((event) => event.data.requiresApproval).length;
    const waitingSteps = openApprovals().size;
    const count = (items: ReadonlyArray<{ kind: string }>, kind: string) =>
      items.filter((item) => item.kind === kind).length;
    // Governance reads its topics a second apart (ADR 0032): its inbox may trail the topics by that much.
    const inbox = await waitFor(
      async () => {
        const items = await get<Array<{ id: string; kind: string; status: string }>>(
          'governance',
          '/v1/approvals',
        );
        return count(items, 'workflow-step') === waitingSteps && count(items, 'guardrail-hold') === held
          ? items
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the approvals inbox holding what waits for a person' },
    ).catch(() => get<Array<{ id: string; kind: string; status: string }>>('governance', '/v1/approvals'));

    expect(inbox.filter((item) => item.kind === 'workflow-step').length).toBe(waitingSteps);
    expect(inbox.filter((item) => item.kind === 'guardrail-hold').length).toBe(held);
    expect(inbox.length).toBeGreaterThan(0);

    for (const item of inbox) {
      const response = await fetch(
        `${url('governance')}/v1/approvals/${encodeURIComponent(item.id)}/approve`,
        {
          method: 'POST',
          headers: {
            authorization: await testTokens.bearerFor({
              subject: 'e2e:approver',
              tenant,
              roles: ['approver'],
            }),
            'content-type': 'application/json',
          },
          body: JSON.stringify({ reason: 'checked by the e2e test' }),
        },
      );
      expect(response.status).toBe(200);
    }
    await waitFor(
      async () =>
        (await get<unknown[]>('governance', '/v1/approvals')).length === 0 && openApprovals().size === 0,
      { timeoutMs: 60_000, intervalMs: 250, what: 'the inbox emptied' },
    );
    await settled();
    expect([...instances().values()].filter((instance) => !terminal.has(instance.outcome))).toEqual([]);
  });

  it('explains every case by its lineage, from the normalized event through its decision to its workflow', async () => {
    const started = new Set(tap.of<WorkflowEvent>(topics.workflowEvents).map((event) => event.subject));
    for (const caseId of caseIds()) {
      const read = () =>
        get<{ entries: Array<{ stage: string; at: string }> }>(
          'governance',
          `/v1/cases/${encodeURIComponent(caseId)}/lineage`,
        );
      // The audit log trails the topics by up to a second and a half (ADR 0032).
      const complete = (entries: ReadonlyArray<{ stage: string }>) =>
        ['normalized-event', 'decision', ...(started.has(caseId) ? ['workflow-step'] : [])].every((stage) =>
          entries.some((entry) => entry.stage === stage),
        );
      const lineage = await waitFor(
        async () => {
          const answer = await read();
          return complete(answer.entries) ? answer : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: `the lineage of ${caseId}` },
      ).catch(read);
      const stages = new Set(lineage.entries.map((entry) => entry.stage));
      expect([caseId, stages.has('normalized-event'), stages.has('decision')]).toEqual([caseId, true, true]);
      if (started.has(caseId)) expect([caseId, stages.has('workflow-step')]).toEqual([caseId, true]);
      const times = lineage.entries.map((entry) => entry.at);
      expect(times).toEqual([...times].sort());
    }
  });

  it('keeps an audit chain that verifies', async () => {
    const verdict = await get<{ intact: boolean; rows: number }>('governance', '/v1/audit/verify');

    expect(verdict).toMatchObject({ intact: true });
    expect(verdict.rows).toBeGreaterThan(caseIds().length);
  });

  it("moves the use cases' KPIs and the services' metrics", async () => {
    const kpis = await platform.systems.registry.getMetricsAsJSON();
    /** A counter's total, or a histogram's count of observations. */
    const total = (name: string) =>
      (kpis.find((metric) => metric.name === name)?.values ?? [])
        .filter((value) => !('metricName' in value) || String(value.metricName).endsWith('_count'))
        .reduce((sum, value) => sum + value.value, 0);
    expect(total('keel_kpi_orders_confirmed_total')).toBeGreaterThan(0);
    expect(total('keel_kpi_remediations_total')).toBeGreaterThan(0);
    expect(total('keel_kpi_support_first_contact_seconds')).toBeGreaterThan(0);
    expect(total('keel_kpi_order_cycle_seconds')).toBeGreaterThan(0);

    const series = async (service: PipelineService, name: string) => {
      return metricSum(await (await fetch(`${url(service)}/metrics`)).text(), name);
    };
    expect(await series('ingestion', 'keel_ingestion_events_total')).toBeGreaterThan(0);
    expect(await series('decisioning', 'keel_decisioning_decisions_total')).toBeGreaterThan(0);
    expect(await series('workflow', 'keel_workflow_instances_finished_total')).toBeGreaterThan(0);
    expect(await series('governance', 'keel_messages_consumed_total')).toBeGreaterThan(0);
  });

  it("follows one request in one trace, from the HTTP call to its workflow's last step", async () => {
    const tracedCase = tap
      .of<CaseEvent>(topics.caseEvents)
      .find((event) => event.traceparent?.split('-')[1] === traceId)?.data.caseId;
    const tracedInstance = tap
      .of<WorkflowEvent>(topics.workflowEvents)
      .find((event) => event.subject === tracedCase)?.data.instanceId;
    const lastTask = tracedInstance ? instances().get(tracedInstance)?.lastTask : undefined;
    expect([tracedCase, tracedInstance, lastTask]).toEqual([
      expect.any(String),
      expect.any(String),
      expect.any(String),
    ]);

    await waitFor(
      () => Promise.resolve(traces.trace(traceId).some((span) => span.name === `workflow task ${lastTask}`)),
      { timeoutMs: 20_000, intervalMs: 250, what: "the last step's span" },
    ).catch((error: unknown) => {
      const seen = traces.trace(traceId).map((span) => `${span.service}: ${span.name}`);
      throw new Error(`${String(error)}; last task ${lastTask}; spans of the trace: ${seen.join(', ')}`);
    });
    const spans = traces.trace(traceId);
    expect([...new Set(spans.map((span) => span.service))].sort()).toEqual(
      expect.arrayContaining(['decisioning', 'ingestion', 'workflow']),
    );
    expect(spans.map((span) => span.name)).toEqual(expect.arrayContaining(['decisioning decide']));
  });
});
