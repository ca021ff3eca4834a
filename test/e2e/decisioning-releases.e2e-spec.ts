import { type Role } from '@keel/access';
import {
  type CaseEvent,
  type DecisionRecord,
  type TopicData,
  type TopicDefinition,
  type WorkflowCommand,
  type WorkflowEvent,
  buildEvent,
  namespacedTopics,
} from '@keel/contracts';
import { workflowStartOf } from '@keel/decision-policy';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import {
  deleteNamespaceTopics,
  readTopic,
  type ScratchDatabase,
  scratchDatabase,
  testKafka,
  testTopicScope,
  waitFor,
} from '@keel/testing';
import { type KafkaMessage } from 'kafkajs';
import agentPolicy from '../../libs/decisioning/domain/src/policies/agent-policy.v1.json';
import guardrailsV1 from '../../libs/decisioning/domain/src/policies/guardrails.v1.json';
import decidePrompt from '../../libs/decisioning/domain/src/prompts/decide.prompt.v1.json';
import { ServiceProcess } from './fixtures/service.process';

const tenant = 'acme';

/** Guardrails v2: orders may no longer start a workflow by themselves, so the planner escalates them. */
const guardrailsV2 = {
  ...guardrailsV1,
  version: 2,
  description: 'As v1, but a new order is escalated to a person instead of starting order routing.',
  tools: {
    ...guardrailsV1.tools,
    byEventType: {
      ...guardrailsV1.tools.byEventType,
      'order.created': ['get_case_history', 'search_knowledge', 'request_info', 'escalate'],
    },
  },
};

interface ReleaseHealth {
  tenant: string | null;
  production: { id: string } | null;
  shadow: { id: string } | null;
}

/**
 * Decisioning runs governance's releases: governance and decisioning as processes on real Kafka and Postgres.
 * A shadow release decides beside production (its records marked shadow, compared, never signalled); a
 * promotion and a rollback reach the running service within seconds, without a restart; `/health` and every
 * record name the release in force.
 */
describe('decisioning under governance releases', () => {
  const namespace = testTopicScope('e2e');
  const topics = namespacedTopics(namespace);
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let governanceDatabase: ScratchDatabase;
  let decisioningDatabase: ScratchDatabase;
  // Both on the broker and a database of their own; decisioning's release settings are known once governance runs.
  const quickDelivery = { OUTBOX_POLL_MS: '20', KAFKA_SESSION_TIMEOUT_MS: '6000' };
  let governance: ServiceProcess;
  let decisioning: ServiceProcess;
  const propagation: Record<string, number> = {};

  beforeAll(async () => {
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
    governanceDatabase = await scratchDatabase('keel_governance_decisioning_releases');
    decisioningDatabase = await scratchDatabase('keel_decisioning_releases');
    governance = new ServiceProcess('governance', {
      ...quickDelivery,
      DATABASE_URL: governanceDatabase.url,
      KEEL_TOPIC_NAMESPACE: namespace,
      GOVERNANCE_AUDIT_KEY: 'decisioning-releases-audit-key-0123456789',
      GOVERNANCE_RATE_LIMIT: '100000',
    });
    await governance.start();
    const key = await call<{ key: string }>('POST', '/v1/api-keys', 'admin', {
      client: 'decisioning-service',
      roles: ['viewer'],
    });
    decisioning = new ServiceProcess('decisioning', {
      ...quickDelivery,
      DATABASE_URL: decisioningDatabase.url,
      KEEL_TOPIC_NAMESPACE: namespace,
      KEEL_RELEASE_TENANT: tenant,
      RELEASES_REFRESH_MS: '200',
      GOVERNANCE_URL: governance.url,
      GOVERNANCE_API_KEY: key.key,
    });
    await decisioning.start();
  });

  afterAll(async () => {
    await decisioning?.stop();
    await governance?.stop();
    await sender.disconnect();
    await decisioningDatabase?.drop();
    await governanceDatabase?.drop();
    await deleteNamespaceTopics(kafka, namespace);
    if (Object.keys(propagation).length > 0) {
      process.stdout.write(
        `release propagation (governance answered → decisioning /health): ${JSON.stringify(propagation)}\n`,
      );
    }
  });

  const call = <Body>(method: string, path: string, role: Role, body?: unknown): Promise<Body> =>
    governance.call<Body>(method, path, role, body);

  const health = async () =>
    ((await (await fetch(`${decisioning.url}/health`)).json()) as { release: ReleaseHealth }).release;

  /** Runs a governance step and waits until decisioning's /health shows `expected`; records how long it took. */
  async function step(label: string, run: () => Promise<unknown>, expected: (h: ReleaseHealth) => boolean) {
    await run();
    const answered = Date.now();
    await waitFor(async () => expected(await health()), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: label,
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${decisioning.output()}`);
    });
    propagation[label] = Date.now() - answered;
  }

  async function propose(id: string, guardrailsVersion: number): Promise<void> {
    await call('POST', '/v1/releases', 'operator', {
      id,
      agentPolicy: { name: 'agent-policy', version: 1 },
      prompt: { name: 'decide', version: 1 },
      model: 'offline-planner@1',
      guardrailPolicy: { name: 'guardrails', version: guardrailsVersion },
      workflowTemplates: [],
    });
    await call('POST', `/v1/releases/${id}/submit`, 'operator');
    await call('POST', `/v1/releases/${id}/approve`, 'approver');
  }

  const promote = (id: string, stage: 'shadow' | 'production') =>
    step(
      `${id} → ${stage}`,
      () => call('POST', `/v1/releases/${id}/promote`, 'operator', { stage }),
      (h) => h[stage]?.id === id,
    );

  let sequence = 0;
  function event<T extends TopicDefinition>(topic: T, subject: string, data: TopicData<T>) {
    sequence += 1;
    const id = `${namespace}-${sequence}`;
    return buildEvent(topic, {
      id,
      source: 'urn:keel:test',
      type: 'keel.test.event',
      time: new Date().toISOString(),
      subject,
      tenant,
      correlationid: subject,
      idempotencykey: id,
      data,
    });
  }

  const records = (messages: KafkaMessage[]) =>
    messages.map((message) => JSON.parse(message.value?.toString() ?? '{}') as DecisionRecord);

  /** Publishes a new order and returns its decision records: production's, then the shadow's if expected. */
  async function decideOrder(caseId: string, expected: number): Promise<DecisionRecord[]> {
    const order: CaseEvent = {
      caseId,
      caseType: 'order',
      eventType: 'order.created',
      occurredAt: '2026-12-01T09:00:00.000Z',
      source: { system: 'order-system', eventId: caseId, schemaVersion: 1 },
      attributes: {
        orderId: caseId,
        lines: [{ sku: 'a', qty: 1 }],
        weightKg: 3,
        region: 'US',
        address: 'Boston',
      },
    };
    await publisher.publish(topics.caseEvents, [event(topics.caseEvents, caseId, order)]);
    const found = records(
      await readTopic(kafka, topics.decisions.name, expected, (m) => m.key?.toString() === caseId),
    );
    return [...found].sort((left, right) =>
      left.mode === right.mode ? 0 : left.mode === 'production' ? -1 : 1,
    );
  }

  it('runs the bundled files until a release is applied', async () => {
    expect(await health()).toEqual({ tenant, production: null, shadow: null });
    const [record] = await decideOrder('order-bundled', 1);
    expect(record).toMatchObject({ mode: 'production', action: { tool: 'start_workflow' } });
    expect(record?.versions.release).toBeUndefined();
  });

  it('decides a shadow release beside production, marked, compared and never acted on', async () => {
    const register = (kind: string, name: string, content: unknown) =>
      call('POST', `/v1/artifacts/${kind}/${name}/versions`, 'operator', { content });
    await register('agent-policy', 'agent-policy', agentPolicy);
    await register('prompt', 'decide', decidePrompt);
    await register('guardrail-policy', 'guardrails', guardrailsV1);
    await register('guardrail-policy', 'guardrails', guardrailsV2);

    await propose('r1', 1);
    await promote('r1', 'shadow');
    const [production, shadow] = await decideOrder('order-shadow-r1', 2);
    expect(production).toMatchObject({ mode: 'production', action: { tool: 'start_workflow' } });
    expect(production?.versions.release).toBeUndefined();
    expect(shadow).toMatchObject({
      mode: 'shadow',
      versions: { release: 'r1', guardrailPolicy: { name: 'guardrails', version: 1 } },
      action: { tool: 'start_workflow' },
      shadow: { productionDecisionId: production?.decisionId, agreesWithProduction: true },
    });
    // The workflow service's own rule: a shadow record starts nothing.
    expect(workflowStartOf(shadow)).toEqual({ acted: false, reason: 'shadow' });
  });

  it('applies a promotion within seconds, without a restart, and names the release in every record', async () => {
    await promote('r1', 'production');
    expect(await health()).toMatchObject({ production: { id: 'r1' }, shadow: null });
    const [record] = await decideOrder('order-r1', 1);
    expect(record).toMatchObject({ mode: 'production', versions: { release: 'r1' } });

    await propose('r2', 2);
    await promote('r2', 'shadow');
    const [production, shadow] = await decideOrder('order-shadow-r2', 2);
    expect(production).toMatchObject({ versions: { release: 'r1' }, action: { tool: 'start_workflow' } });
    expect(shadow).toMatchObject({
      mode: 'shadow',
      versions: { release: 'r2', guardrailPolicy: { version: 2 } },
      action: { tool: 'escalate' },
      shadow: { productionDecisionId: production?.decisionId, agreesWithProduction: false },
    });
    const metrics = await (await fetch(`${decisioning.url}/metrics`)).text();
    expect(metrics).toMatch(
      /keel_decisioning_shadow_decisions_total\{[^}]*version="agent-policy@1\+guardrails@2"[^}]*agreement="disagree"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /keel_decisioning_shadow_agreement_ratio\{[^}]*version="agent-policy@1\+guardrails@1"[^}]*\} 1/,
    );
  });

  it("answers a workflow step with production's decision only: the shadow's answer sends no signal", async () => {
    const request: WorkflowEvent = {
      instanceId: 'wf-ticket-1',
      template: 'support-routing',
      templateVersion: 1,
      sequence: 4,
      transition: 'agent.decisionRequested',
      stepId: 'checkResolution',
      status: 'waiting',
      detail: {
        run: 1,
        question: "The ticket's SLA has elapsed. Has it been resolved?",
        options: ['resolved', 'unresolved'],
        context: { ticket: { ticketId: 'T-1' } },
      },
    };
    await publisher.publish(topics.workflowEvents, [event(topics.workflowEvents, 'ticket-1', request)]);
    const [production, shadow] = records(
      await readTopic(kafka, topics.decisions.name, 2, (m) => m.key?.toString() === 'ticket-1'),
    ).sort((left) => (left.mode === 'production' ? -1 : 1));
    expect(production).toMatchObject({ mode: 'production', action: { tool: 'answer' } });
    expect(shadow).toMatchObject({ mode: 'shadow', action: { tool: 'answer' }, versions: { release: 'r2' } });
    // Give a shadow signal, were there one, time to be published after production's.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const signals = (
      await readTopic(kafka, topics.workflowCommands.name, 1, (m) => m.key?.toString() === 'ticket-1')
    ).map((message) => JSON.parse(message.value?.toString() ?? '{}') as WorkflowCommand);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({
      command: 'signal',
      instanceId: 'wf-ticket-1',
      payload: { decisionId: production?.decisionId },
    });
  });

  it('rollback restores the previous release within seconds', async () => {
    // Governance's replay gate: r2 changes what decides (orders escalate), so an admin lets it through.
    const report = await call<{ passed: boolean }>('POST', '/v1/releases/r2/replay', 'operator');
    if (!report.passed) {
      await call('POST', '/v1/releases/r2/replay/override', 'admin', {
        reason: 'e2e: r2 is meant to differ',
      });
    }
    await promote('r2', 'production');
    const [underR2] = await decideOrder('order-r2', 1);
    expect(underR2).toMatchObject({ versions: { release: 'r2' }, action: { tool: 'escalate' } });

    await step(
      'rollback → r1',
      () => call('POST', '/v1/releases/rollback', 'operator', { reason: 'e2e' }),
      (h) => h.production?.id === 'r1',
    );
    const [afterRollback] = await decideOrder('order-after-rollback', 1);
    expect(afterRollback).toMatchObject({ versions: { release: 'r1' }, action: { tool: 'start_workflow' } });
  });
});
