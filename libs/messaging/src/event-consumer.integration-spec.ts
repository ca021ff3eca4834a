import { deadLetterTopicName, encodeEvent, fromKafkaRecord, topics } from '@keel/contracts';
import {
  deadLetterHeaders,
  EventConsumer,
  EventPublisher,
  KafkaRecordSender,
  MessagingSchema,
  subscribe,
} from '@keel/messaging';
import {
  dropSchema,
  effectsTableMigration,
  isolatedTopic,
  readTopic,
  recordEffects,
  schemaDataSource,
  sequencedCaseEvent,
  testKafka,
  uniqueName,
  waitFor,
} from '@keel/testing';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';

describe('EventConsumer on a real broker and Postgres', () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let schema: string;
  let dataSource: DataSource;
  let consumer: EventConsumer | undefined;

  beforeEach(async () => {
    schema = uniqueName('msg');
    dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
  });

  afterEach(async () => {
    await consumer?.stop();
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  afterAll(() => sender.disconnect());

  it('retries a poison record N times, dead-letters it with reason and origin, and processes the records behind it', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    const events = [
      sequencedCaseEvent('case-a', 1),
      sequencedCaseEvent('case-a', 2, { poison: true }),
      sequencedCaseEvent('case-a', 3),
      sequencedCaseEvent('case-a', 4),
    ];
    await publisher.publish(topic, events);
    // A record that is not even JSON: it cannot be retried into shape, so it goes to the DLQ at once.
    const malformed = {
      ...encodeEvent(topics.caseEvents, sequencedCaseEvent('case-a', 5)),
      value: Buffer.from('{oops'),
    };
    await sender.send([{ topic: topic.name, ...malformed }]);
    await publisher.publish(topic, [sequencedCaseEvent('case-a', 6)]);

    consumer = new EventConsumer({
      kafka,
      groupId: uniqueName('group'),
      subscriptions: [recordEffects(topic, schema, 'single')],
      dataSource,
      tables: new MessagingSchema(schema),
      deadLetters: sender,
      retry: { maxAttempts: 3, initialDelayMs: 20, multiplier: 2, maxDelayMs: 100 },
    });
    await consumer.start();

    const effects = await waitFor(
      async () => {
        const rows = await dataSource.query<Array<{ seq: number }>>(
          `SELECT seq FROM "${schema}".effects ORDER BY applied`,
        );
        return rows.length === 4 ? rows.map((row) => row.seq) : undefined;
      },
      { what: 'four effects' },
    );
    expect(effects).toEqual([1, 3, 4, 6]);

    const deadLetters = await readTopic(kafka, deadLetterTopicName(topic.name), 2);
    const [poison, notJson] = deadLetters;
    const header = (message: KafkaMessage | undefined, name: string) => message?.headers?.[name]?.toString();
    expect(header(poison, deadLetterHeaders.reason)).toBe('handler-failed');
    expect(header(poison, deadLetterHeaders.attempts)).toBe('3');
    expect(header(poison, deadLetterHeaders.error)).toBe('poison record case-a-2');
    expect(header(poison, deadLetterHeaders.originTopic)).toBe(topic.name);
    expect(header(poison, deadLetterHeaders.originPartition)).toBe('0');
    expect(header(poison, deadLetterHeaders.originOffset)).toBe('1');
    expect(poison?.value).toEqual(encodeEvent(topics.caseEvents, events[1]).value);
    expect(header(poison, 'ce_id')).toBe('case-a-2');

    expect(header(notJson, deadLetterHeaders.reason)).toBe('contract-violation');
    expect(header(notJson, deadLetterHeaders.attempts)).toBe('1');
    expect(header(notJson, deadLetterHeaders.error)).toMatch(/value: not JSON/);
    expect(header(notJson, deadLetterHeaders.originOffset)).toBe('4');
    expect(notJson?.value?.toString()).toBe('{oops');
  });

  it('counts a connection error from a service the handler calls as the handler’s failure, not an outage to wait out', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    await publisher.publish(topic, [sequencedCaseEvent('case-h', 1), sequencedCaseEvent('case-h', 2)]);
    const effects = recordEffects(topic, schema, 'http');
    consumer = new EventConsumer({
      kafka,
      groupId: uniqueName('group'),
      subscriptions: [
        subscribe(topic, async (event, context) => {
          if (event.id === 'case-h-1')
            throw new TypeError('fetch failed', {
              cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:443'), { code: 'ECONNREFUSED' }),
            });
          await effects.handler(event, context);
        }),
      ],
      dataSource,
      tables: new MessagingSchema(schema),
      deadLetters: sender,
      retry: { maxAttempts: 2, initialDelayMs: 20, multiplier: 2, maxDelayMs: 100 },
    });
    await consumer.start();

    const [deadLetter] = await readTopic(kafka, deadLetterTopicName(topic.name), 1);
    expect(deadLetter.headers?.[deadLetterHeaders.reason]?.toString()).toBe('handler-failed');
    expect(deadLetter.headers?.[deadLetterHeaders.attempts]?.toString()).toBe('2');
    await waitFor(
      async () =>
        (await dataSource.query<unknown[]>(`SELECT 1 FROM "${schema}".effects WHERE event_id = 'case-h-2'`))
          .length === 1,
      { what: 'the record behind it' },
    );
  });

  it('carries the envelope through Kafka byte for byte', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    const event = {
      ...sequencedCaseEvent('case-b', 1),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };
    const encoded = encodeEvent(topics.caseEvents, event);
    await publisher.publish(topic, [event]);

    const [received] = await readTopic(kafka, topic.name, 1);
    expect(received?.key?.toString()).toBe('case-b');
    expect(Buffer.compare(received.value!, encoded.value)).toBe(0);
    const headers = Object.fromEntries(
      Object.entries(received.headers ?? {}).map(([k, v]) => [k, v?.toString()]),
    );
    expect(headers).toEqual({ ...encoded.headers, traceparent: event.traceparent });
    expect(
      fromKafkaRecord({ key: received.key, value: received.value, headers: received.headers ?? {} }),
    ).toEqual(event);
  });
});
