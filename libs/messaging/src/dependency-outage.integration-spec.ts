import { deadLetterTopicName, topics } from '@keel/contracts';
import { createKafka, KafkaRecordSender, subscribe, type Subscription } from '@keel/messaging';
import {
  FaultProxy,
  isolatedTopic,
  messagingTestBed,
  recordEffects,
  recordsOnTopic,
  sequencedCaseEvent,
  testDatabaseUrl,
  testKafkaBrokers,
  uniqueName,
  waitFor,
} from '@keel/testing';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';

/**
 * Postgres or the broker goes away under a running consumer (through a fault-injecting proxy in front of
 * the shared servers): the consumer waits for it and carries on. Nothing is lost, applied twice, or
 * dead-lettered, however long the outage lasts — even with a retry policy that gives up on a failing
 * handler within two seconds.
 */
describe('EventConsumer through a dependency outage', () => {
  const bed = messagingTestBed({ schemaPrefix: 'outage' });
  const quickToGiveUp = { maxAttempts: 3, initialDelayMs: 500, multiplier: 2, maxDelayMs: 1_000 };

  const eventsOf = (fromSeq: number, toSeq: number) =>
    Array.from({ length: toSeq - fromSeq + 1 }, (_, s) =>
      Array.from({ length: 50 }, (_, c) => sequencedCaseEvent(`case-${c}`, fromSeq + s)),
    ).flat();

  async function expectExactlyOnceInOrder(expected: number): Promise<void> {
    expect(await bed.effectTotals()).toEqual({ rows: expected, events: expected });
    const outOfOrder = await bed.dataSource.query<unknown[]>(`
      SELECT case_id FROM (
        SELECT case_id, seq, lag(seq) OVER (PARTITION BY case_id ORDER BY applied) AS previous
        FROM "${bed.schema}".effects) ordered
      WHERE previous IS NOT NULL AND seq <> previous + 1`);
    expect(outOfOrder).toEqual([]);
  }

  const deadLetterCount = (topic: string) => recordsOnTopic(bed.kafka, deadLetterTopicName(topic));

  async function startConsumer(options: {
    topic: typeof topics.caseEvents;
    consumerKafka: Kafka;
    consumerDataSource: DataSource;
    subscription?: Subscription;
  }): Promise<void> {
    await bed.startConsumer({
      kafka: options.consumerKafka,
      subscriptions: [options.subscription ?? recordEffects(options.topic, bed.schema, 'outage')],
      dataSource: options.consumerDataSource,
      deadLetters: new KafkaRecordSender(options.consumerKafka),
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      recordsPerTransaction: 10,
      retry: quickToGiveUp,
    });
  }

  it('waits out a 30 s Postgres outage (connections cut, new ones refused), retries included: 0 lost, 0 doubled, 0 dead-lettered', async () => {
    const proxy = await FaultProxy.inFrontOf(testDatabaseUrl);
    bed.afterwards(() => proxy.close());
    const consumerDataSource = await new DataSource({
      type: 'postgres',
      url: proxy.url(testDatabaseUrl),
      schema: bed.schema,
      extra: { max: 4, connectionTimeoutMillis: 2_000 },
    }).initialize();
    bed.afterwards(() => consumerDataSource.destroy());
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 3);
    // Postgres goes away just after one record's handler failed (a lock timeout, say): its retries meet
    // the outage, and must wait for Postgres rather than spend the record's attempts on it.
    const effects = recordEffects(topic, bed.schema, 'outage');
    let outageStarted: () => void = () => undefined;
    const outage = new Promise<void>((resolve) => (outageStarted = resolve));
    const subscription = subscribe(topic, async (event, context) => {
      if (event.id === 'case-7-3' && context.attempt === 1) {
        setTimeout(() => {
          proxy.refuse();
          proxy.cut();
          outageStarted();
        }, 100);
        throw new Error('lock timeout');
      }
      await effects.handler(event, context);
    });
    await startConsumer({ topic, consumerKafka: bed.kafka, consumerDataSource, subscription });

    await bed.publisher.publish(topic, eventsOf(1, 4));
    await outage;
    await bed.publisher.publish(topic, eventsOf(5, 8));
    // The outage is the scenario, not a synchronisation: it lasts this long whatever the consumer does.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const appliedDuringOutage = await bed.effectCount();
    await new Promise((resolve) => setTimeout(resolve, 28_000));
    expect(await bed.effectCount()).toBe(appliedDuringOutage);
    proxy.heal();

    await waitFor(async () => (await bed.effectCount()) >= 400, { what: 'every effect after the outage' });
    await expectExactlyOnceInOrder(400);
    expect(await deadLetterCount(topic.name)).toBe(0);
  });

  it('rides out a broker restart mid-stream (every broker connection cut, refused for 8 s): 0 lost, 0 doubled, 0 dead-lettered', async () => {
    const proxy = await FaultProxy.inFrontOf(testKafkaBrokers[0]);
    bed.afterwards(() => proxy.close());
    const consumerKafka = createKafka({
      brokers: testKafkaBrokers,
      clientId: uniqueName('proxied'),
      socketFactory: proxy.kafkaSocketFactory(),
    });
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 3);
    await startConsumer({ topic, consumerKafka, consumerDataSource: bed.dataSource });

    await bed.publisher.publish(topic, eventsOf(1, 4));
    await waitFor(async () => (await bed.effectCount()) >= 50, { what: 'the stream under way' });
    // Every connection of the consumer's client goes through the proxy, so all of them break here.
    expect(proxy.openConnections).toBeGreaterThan(0);
    proxy.refuse();
    proxy.cut();
    await bed.publisher.publish(topic, eventsOf(5, 8));
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    proxy.heal();

    await waitFor(async () => (await bed.effectCount()) >= 400, { what: 'every effect after the restart' });
    await expectExactlyOnceInOrder(400);
    expect(await deadLetterCount(topic.name)).toBe(0);
  });
});
