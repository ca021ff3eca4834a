import { type CaseEvent, type DecisionRecord, buildEvent } from '@keel/contracts';
import { EventPublisher, KafkaRecordSender } from '@keel/messaging';
import { type ScratchDatabase, readTopic, scratchDatabase, testKafka, waitFor } from '@keel/testing';
import { type INestApplication } from '@nestjs/common';
import { type KafkaMessage } from 'kafkajs';
import { startDecisioningApp } from './fixtures/decisioning-app';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

/**
 * Agents decide, workflows act: an order event reaches decisioning, whose record starts order-routing in the
 * workflow service (a real process); the workflow's decision step asks the agent, and its answer resumes the
 * instance to completion. Offline planner, real Kafka and Postgres, each service in its own database.
 */
describe('decisioning answers the workflow', () => {
  const context = new WorkflowE2eContext();
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let database: ScratchDatabase;
  let decisioning: INestApplication;

  beforeAll(async () => {
    context.publishDefinitions(() => false);
    await context.setUp();
    await context.service.start();
    database = await scratchDatabase('keel_decisioning_e2e');
    decisioning = await startDecisioningApp({
      DATABASE_URL: database.url,
      KEEL_TOPIC_NAMESPACE: context.namespace,
    });
  });

  afterAll(async () => {
    await decisioning?.close();
    await database?.drop();
    await sender.disconnect();
    await context.tearDown();
  });

  const recordsOf = (messages: KafkaMessage[]) =>
    messages.map((message) => JSON.parse(message.value?.toString() ?? '{}') as DecisionRecord);

  it('an order event starts order routing, the carrier question is answered by the agent, and the order completes', async () => {
    const order: CaseEvent = {
      caseId: 'order-e2e-1',
      caseType: 'order',
      eventType: 'order.created',
      occurredAt: '2026-12-01T09:00:00.000Z',
      source: { system: 'order-system', eventId: 'o-e2e-1', schemaVersion: 1 },
      // Under the freight threshold and outside the parcel regions: the workflow asks the agent, whose rule
      // (over 20 kg) picks freight, where the template's default branch would have booked a parcel.
      attributes: {
        orderId: 'o-e2e-1',
        lines: [{ sku: 'a', qty: 1 }],
        weightKg: 25,
        region: 'US',
        address: 'Boston',
      },
    };
    await publisher.publish(context.topics.caseEvents, [
      buildEvent(context.topics.caseEvents, {
        id: `${context.namespace}-order-1`,
        source: 'urn:keel:ingestion',
        type: 'keel.case.order',
        time: new Date().toISOString(),
        subject: order.caseId,
        tenant: 'acme',
        correlationid: order.caseId,
        idempotencykey: `${context.namespace}-order-1`,
        data: order,
      }),
    ]);

    const [started] = recordsOf(
      await readTopic(kafka, context.topics.decisions.name, 1, (m) => m.key?.toString() === order.caseId),
    );
    expect(started?.action).toMatchObject({
      tool: 'start_workflow',
      arguments: { template: 'order-routing' },
    });
    const instanceId = started?.decisionId ?? '';

    await waitFor(async () => (await context.instance(instanceId))?.status === 'completed', {
      timeoutMs: 60_000,
      what: `${instanceId} completed`,
    });
    expect(context.ledger.entries.get(`${instanceId}:bookFreight:run1`)?.path).toBe('/freight/bookings');
    expect(context.ledger.entries.get(`${instanceId}:bookParcel:run1`)).toBeUndefined();

    const records = recordsOf(
      await readTopic(kafka, context.topics.decisions.name, 2, (m) => m.key?.toString() === order.caseId),
    );
    expect(records.find((record) => record.answers !== undefined)).toMatchObject({
      answers: { instanceId, stepId: 'pickCarrier', run: 1 },
      action: { tool: 'answer', arguments: { option: 'freight' } },
      requiresApproval: false,
    });
  });
});
