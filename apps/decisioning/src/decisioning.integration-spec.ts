import {
  type CaseEvent,
  type CloudEvent,
  type DecisionRecord,
  type TopicData,
  type TopicDefinition,
  type WorkflowCommand,
  type WorkflowEvent,
  buildEvent,
  namespacedTopics,
} from '@keel/contracts';
import { replayDecision } from '@keel/decisioning-agent';
import { currentArtifacts, recordBytes } from '@keel/decisioning-domain';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import {
  type ScratchDatabase,
  readTopic,
  scratchDatabase,
  testKafka,
  testTopicScope,
  waitFor,
} from '@keel/testing';
import { METRICS_REGISTRY } from '@keel/observability';
import { type INestApplication } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { startDecisioningApp } from '../../../test/e2e/fixtures/decisioning-app';

/**
 * The service on real Kafka and Postgres, offline planner: case events and workflow decision requests in,
 * decision records and workflow signals out through the outbox, case memory in its schema.
 */
describe('decisioning service', () => {
  const namespace = testTopicScope('e2e');
  const topics = namespacedTopics(namespace);
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let database: ScratchDatabase;
  let client: Client;
  let app: INestApplication;

  beforeAll(async () => {
    database = await scratchDatabase('keel_decisioning');
    client = new Client({ connectionString: database.url });
    await client.connect();
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
    app = await startDecisioningApp({ DATABASE_URL: database.url, KEEL_TOPIC_NAMESPACE: namespace });
  });

  afterAll(async () => {
    await app?.close();
    await client?.end();
    await database?.drop();
    await sender.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({
      topics: (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`)),
    });
    await admin.disconnect();
  });

  let sequence = 0;
  function event<T extends TopicDefinition>(
    topic: T,
    subject: string,
    data: TopicData<T>,
  ): CloudEvent<TopicData<T>> {
    sequence += 1;
    const id = `${namespace}-${sequence}`;
    return buildEvent(topic, {
      id,
      source: 'urn:keel:test',
      type: 'keel.test.event',
      time: new Date().toISOString(),
      subject,
      tenant: 'acme',
      correlationid: subject,
      idempotencykey: id,
      data,
    });
  }

  const parsed = <T>(message: KafkaMessage) => JSON.parse(message.value?.toString() ?? '{}') as T;

  it('decides a case event, keeps it in the case memory, and publishes a record that replays byte for byte', async () => {
    const order: CaseEvent = {
      caseId: 'order-7',
      caseType: 'order',
      eventType: 'order.created',
      occurredAt: '2026-12-01T09:00:00.000Z',
      source: { system: 'orders', eventId: 'o-7', schemaVersion: 1 },
      attributes: {
        orderId: 'o-7',
        lines: [{ sku: 'S', quantity: 1 }],
        weightKg: 4,
        region: 'US',
        address: { city: 'Austin' },
      },
    };
    const published = event(topics.caseEvents, 'order-7', order);
    await publisher.publish(topics.caseEvents, [published]);

    const [message] = await readTopic(
      kafka,
      topics.decisions.name,
      1,
      (m) => m.key?.toString() === 'order-7',
    );
    const record = parsed<DecisionRecord>(message);
    expect(record).toMatchObject({
      caseId: 'order-7',
      action: { tool: 'start_workflow', arguments: { template: 'order-routing', input: { orderId: 'o-7' } } },
      planner: 'offline',
      fallback: false,
      requiresApproval: false,
      inputs: { eventIds: [published.id] },
    });
    expect(message?.headers?.ce_causationid?.toString()).toBe(published.id);

    const { rows: memory } = await client.query<{ event_id: string }>(
      `SELECT event_id FROM decisioning.case_events WHERE tenant = 'acme' AND case_id = 'order-7'`,
    );
    expect(memory).toEqual([{ event_id: published.id }]);
    const { rows: stored } = await client.query<{ record: string }>(
      `SELECT record::text AS record FROM decisioning.decisions WHERE decision_id = $1`,
      [record.decisionId],
    );
    expect(stored[0]?.record).toBe(message?.value?.toString());
    expect(recordBytes(await replayDecision(record, currentArtifacts))).toBe(message?.value?.toString());
    // The decision queue (with the case history it prefetches) is a timed port, like every repository.
    const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
    expect(metrics).toContain(
      'keel_port_call_duration_seconds_count{service="decisioning",port="decision-queue",method="pending",outcome="ok"}',
    );
    expect(metrics).toContain(
      'keel_decisioning_decisions_total{planner="offline",tool="start_workflow",fallback="false",service="decisioning"} 1',
    );
  });

  it("answers a workflow's decision request with a signal, from the case's history", async () => {
    const resolved: CaseEvent = {
      caseId: 'ticket-9',
      caseType: 'support',
      eventType: 'ticket.resolved',
      occurredAt: '2026-12-01T09:30:00.000Z',
      source: { system: 'support-desk', eventId: 't-9-r', schemaVersion: 1 },
      attributes: { ticketId: 'T-9' },
    };
    await publisher.publish(topics.caseEvents, [event(topics.caseEvents, 'ticket-9', resolved)]);
    await readTopic(kafka, topics.decisions.name, 1, (m) => m.key?.toString() === 'ticket-9');

    const otherTransition: WorkflowEvent = {
      instanceId: 'wf-ticket-9',
      template: 'support-routing',
      templateVersion: 1,
      sequence: 3,
      transition: 'step.completed',
      stepId: 'slaTimer',
      status: 'running',
      detail: {},
    };
    const request: WorkflowEvent = {
      ...otherTransition,
      sequence: 4,
      transition: 'agent.decisionRequested',
      stepId: 'checkResolution',
      status: 'waiting',
      detail: {
        run: 1,
        question: "The ticket's SLA has elapsed. Has it been resolved?",
        options: ['resolved', 'unresolved'],
        context: { ticket: { ticketId: 'T-9', priority: 'high' } },
      },
    };
    await publisher.publish(topics.workflowEvents, [
      event(topics.workflowEvents, 'ticket-9', otherTransition),
      event(topics.workflowEvents, 'ticket-9', request),
    ]);

    const [signal] = await readTopic(
      kafka,
      topics.workflowCommands.name,
      1,
      (m) => m.key?.toString() === 'ticket-9',
    );
    expect(parsed<WorkflowCommand>(signal)).toMatchObject({
      command: 'signal',
      instanceId: 'wf-ticket-9',
      signal: 'decision',
      stepId: 'checkResolution',
      payload: { run: 1, decision: 'resolved' },
    });
    const records = await readTopic(kafka, topics.decisions.name, 2, (m) => m.key?.toString() === 'ticket-9');
    const answer = records
      .map((m) => parsed<DecisionRecord>(m))
      .find((record) => record.answers !== undefined);
    expect(answer).toMatchObject({
      answers: { instanceId: 'wf-ticket-9', stepId: 'checkResolution', run: 1 },
      action: { tool: 'answer', arguments: { option: 'resolved' } },
    });
    // Only the request was decided: the other transition left no record.
    await waitFor(async () => {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM decisioning.decisions WHERE case_id = 'ticket-9'`,
      );
      return rows[0]?.n === 2;
    });
  });

  it('dead-letters a decision request it can never answer, and keeps consuming', async () => {
    const broken: WorkflowEvent = {
      instanceId: 'wf-broken',
      template: 'order-routing',
      templateVersion: 1,
      sequence: 1,
      transition: 'agent.decisionRequested',
      status: 'waiting',
      detail: { question: 'no step, no run' },
    };
    await publisher.publish(topics.workflowEvents, [event(topics.workflowEvents, 'order-broken', broken)]);
    const [dead] = await readTopic(
      kafka,
      `${topics.workflowEvents.name}.dlq`,
      1,
      (m) => m.key?.toString() === 'order-broken',
    );
    // The code comes from DecisioningServiceError's catalog, as every module's does.
    expect(dead?.headers?.keel_dlq_code?.toString()).toBe('invalid-request');
    expect(dead?.headers?.keel_dlq_reason?.toString()).toBe('non-retryable');

    const later: CaseEvent = {
      caseId: 'order-after',
      caseType: 'order',
      eventType: 'order.teleported',
      occurredAt: '2026-12-01T10:00:00.000Z',
      source: { system: 'orders', eventId: 'o-after', schemaVersion: 1 },
      attributes: {},
    };
    await publisher.publish(topics.caseEvents, [event(topics.caseEvents, 'order-after', later)]);
    const [record] = await readTopic(
      kafka,
      topics.decisions.name,
      1,
      (m) => m.key?.toString() === 'order-after',
    );
    expect(parsed<DecisionRecord>(record).action.tool).toBe('escalate');
  });
});
