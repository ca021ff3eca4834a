import { decodeEvent, topics } from '@keel/contracts';
import { EventPublisher, KafkaRecordSender } from '@keel/messaging';
import { isolatedTopic, readTopic, testKafka } from '@keel/testing';
import { KafkaConnector } from '@keel/workflow-runtime';

describe('KafkaConnector on a real broker', () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  afterAll(() => sender.disconnect());

  const context = {
    idempotencyKey: 'wf-3:notify:run1',
    timeoutMs: 1000,
    workflow: 'order-routing',
    caseId: 'case-3',
    tenant: 'acme',
    correlationId: 'corr-3',
  };

  it('publishes a registry event whose id is the idempotency key, and refuses data that breaks the topic schema', async () => {
    const topic = await isolatedTopic(kafka, topics.supportNotifications, 1);
    const connector = new KafkaConnector(
      new EventPublisher(sender),
      { ...topics, supportNotifications: topic },
      'urn:keel:workflow',
    );
    const value = { ticketId: 't-7', queue: 'billing' };

    await expect(
      connector.execute({ type: 'kafka', topic: 'supportNotifications', value }, context),
    ).resolves.toMatchObject({
      outcome: 'succeeded',
    });
    await expect(
      connector.execute({ type: 'kafka', topic: 'supportNotifications', value: { queue: 7 } }, context),
    ).resolves.toMatchObject({ outcome: 'failed', retryable: false });
    // The registry name works as well as the key; the topic copy given to the connector is what it publishes to.
    await expect(
      connector.execute(
        { type: 'kafka', topic: 'keel.support.notifications.v1', value },
        { ...context, idempotencyKey: 'wf-3:notify:run2' },
      ),
    ).resolves.toMatchObject({ outcome: 'succeeded', output: { topic: topic.name } });
    await expect(
      connector.execute({ type: 'kafka', topic: 'nowhere', value }, context),
    ).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
    });

    // The topics that steer the platform are never a template's to write, by key or by name.
    for (const steering of ['approvals', 'workflowCommands', 'keel.decisions.v1', 'releases']) {
      await expect(
        connector.execute({ type: 'kafka', topic: steering, value }, context),
      ).resolves.toMatchObject({
        outcome: 'failed',
        retryable: false,
        error: expect.stringContaining('is not writable by workflow templates') as unknown,
      });
    }

    const received = await readTopic(kafka, topic.name, 2);
    const [message] = received;
    if (!message) throw new Error('nothing received');
    const event = decodeEvent(topic, {
      key: message.key,
      value: message.value,
      headers: message.headers ?? {},
    });
    expect(event).toMatchObject({ id: 'wf-3:notify:run1', subject: 'case-3', tenant: 'acme', data: value });
  });

  it('gives up at the end of the attempt budget when the broker does not acknowledge', async () => {
    const unacknowledged = new EventPublisher({ send: () => new Promise<void>(() => undefined) });
    const connector = new KafkaConnector(unacknowledged, topics, 'urn:keel:workflow');
    const started = Date.now();
    await expect(
      connector.execute(
        { type: 'kafka', topic: 'supportNotifications', value: { ticketId: 't-8', queue: 'billing' } },
        { ...context, timeoutMs: 150 },
      ),
    ).resolves.toEqual({ outcome: 'timedOut' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
