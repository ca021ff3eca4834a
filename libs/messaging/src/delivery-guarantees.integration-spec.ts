import { join } from 'node:path';
import { topics } from '@keel/contracts';
import {
  EventPublisher,
  KafkaRecordSender,
  MessagingSchema,
  OutboxWriter,
  EventConsumer,
} from '@keel/messaging';
import {
  dropSchema,
  effectsTableMigration,
  isolatedTopic,
  recordEffects,
  schemaDataSource,
  sequencedCaseEvent,
  startTsProcess,
  testDatabaseUrl,
  testKafka,
  testKafkaBrokers,
  type TestProcess,
  uniqueName,
  waitFor,
} from '@keel/testing';
import type { DataSource } from 'typeorm';

const processes = join(__dirname, '../../testing/src/processes');

/** Crash tests: group members and the relay run as real processes and are SIGKILLed, not closed. */
describe('delivery guarantees under SIGKILL', () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  const running: TestProcess[] = [];
  let schema: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    schema = uniqueName('crash');
    dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((child) => child.kill('SIGKILL')));
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  afterAll(() => sender.disconnect());

  const effectCount = async () =>
    (await dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM "${schema}".effects`))[0].n;

  async function expectExactlyOnceInOrder(expected: number): Promise<void> {
    const [totals] = await dataSource.query<[{ rows: number; events: number }]>(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS events FROM "${schema}".effects`,
    );
    expect(totals).toEqual({ rows: expected, events: expected });
    // Per case, effects were applied in the order the case's events were published.
    const outOfOrder = await dataSource.query<unknown[]>(`
      SELECT case_id FROM (
        SELECT case_id, seq, lag(seq) OVER (PARTITION BY case_id ORDER BY applied) AS previous
        FROM "${schema}".effects) ordered
      WHERE previous IS NOT NULL AND seq <= previous`);
    expect(outOfOrder).toEqual([]);
  }

  function startMember(topic: string, group: string, member: string): TestProcess {
    const child = startTsProcess(join(processes, 'effects-consumer.process.ts'), {
      TEST_SCHEMA: schema,
      TEST_TOPIC: topic,
      TEST_GROUP: group,
      TEST_MEMBER: member,
      TEST_DATABASE_URL: testDatabaseUrl,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
    });
    running.push(child);
    return child;
  }

  it('applies 10,000 events over 6 partitions exactly once, in order per key, across a SIGKILLed member', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 6);
    const cases = 200;
    const perCase = 50;
    const events = Array.from({ length: perCase }, (_, seq) =>
      Array.from({ length: cases }, (_, c) => sequencedCaseEvent(`case-${c}`, seq + 1)),
    ).flat();
    // Both members join before anything is published, so both own partitions when the stream starts.
    const group = uniqueName('group');
    const first = startMember(topic.name, group, 'member-a');
    const second = startMember(topic.name, group, 'member-b');
    await Promise.all([
      first.waitForOutput('member-a consuming'),
      second.waitForOutput('member-b consuming'),
    ]);
    for (let start = 0; start < events.length; start += 1_000) {
      await publisher.publish(topic, events.slice(start, start + 1_000));
    }

    // Killed mid-stream: it has applied part of its partitions' records, and the stream is far from done.
    const appliedBy = async (member: string) =>
      (
        await dataSource.query<[{ n: number }]>(
          `SELECT count(*)::int AS n FROM "${schema}".effects WHERE consumer = $1`,
          [member],
        )
      )[0].n;
    await waitFor(async () => (await appliedBy('member-a')) >= 300, {
      what: 'member-a applying its records',
    });
    await first.kill('SIGKILL');
    expect(await effectCount()).toBeLessThan(events.length);
    startMember(topic.name, group, 'member-a-restarted');

    await waitFor(async () => (await effectCount()) >= events.length, {
      timeoutMs: 180_000,
      what: 'all effects',
    });
    await expectExactlyOnceInOrder(events.length);
    const members = await dataSource.query<Array<{ consumer: string; n: number }>>(
      `SELECT consumer, count(*)::int AS n FROM "${schema}".effects GROUP BY consumer ORDER BY consumer`,
    );
    // Both original members did part of the work (the restarted one joins while the others may finish).
    expect(members.map((row) => row.consumer)).toEqual(expect.arrayContaining(['member-a', 'member-b']));
  });

  it('republishes every outbox row after the relay is killed between publish and commit, and consumers deduplicate', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 3);
    const tables = new MessagingSchema(schema);
    const outbox = new OutboxWriter(tables);
    const events = Array.from({ length: 500 }, (_, i) =>
      sequencedCaseEvent(`case-${i % 20}`, Math.floor(i / 20) + 1),
    );
    // Business transactions: each commits its outbox rows; nothing is published yet.
    for (let start = 0; start < events.length; start += 50) {
      await dataSource.transaction((manager) =>
        outbox.enqueue(manager, topic, events.slice(start, start + 50)),
      );
    }

    const relayEnv = {
      TEST_SCHEMA: schema,
      TEST_DATABASE_URL: testDatabaseUrl,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      RELAY_BATCH_SIZE: '100',
    };
    const doomed = startTsProcess(join(processes, 'outbox-relay.process.ts'), {
      ...relayEnv,
      KILL_AFTER_FIRST_SEND: '1',
    });
    running.push(doomed);
    await new Promise<void>((resolve) => doomed.child.once('exit', () => resolve()));
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(doomed.output()).toContain('sent 100');
    const [unpublished] = await dataSource.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM ${tables.outbox} WHERE published_at IS NULL`,
    );
    expect(unpublished.n).toBe(500);

    running.push(startTsProcess(join(processes, 'outbox-relay.process.ts'), relayEnv));
    await waitFor(
      async () =>
        (
          await dataSource.query<[{ n: number }]>(
            `SELECT count(*)::int AS n FROM ${tables.outbox} WHERE published_at IS NULL`,
          )
        )[0].n === 0,
      { what: 'every outbox row published' },
    );
    const offsets = await admin((a) => a.fetchTopicOffsets(topic.name));
    const recordsOnTopic = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
    expect(recordsOnTopic).toBe(600); // the first batch twice

    const consumer = new EventConsumer({
      kafka,
      groupId: uniqueName('group'),
      subscriptions: [recordEffects(topic, schema, 'dedup')],
      dataSource,
      tables,
      deadLetters: sender,
    });
    await consumer.start();
    try {
      await waitFor(async () => (await effectCount()) >= 500, { what: '500 effects' });
      await waitFor(
        async () => {
          const [row] = await dataSource.query<[{ n: number }]>(
            `SELECT count(*)::int AS n FROM ${tables.processedEvents}`,
          );
          const lag = await admin((a) => a.fetchOffsets({ groupId: consumer.groupId, topics: [topic.name] }));
          const committed = lag[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
          return row.n === 500 && committed === recordsOnTopic;
        },
        { what: 'all 600 records consumed' },
      );
      await expectExactlyOnceInOrder(500);
    } finally {
      await consumer.stop();
    }
  });

  async function admin<T>(use: (client: ReturnType<typeof kafka.admin>) => Promise<T>): Promise<T> {
    const client = kafka.admin();
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.disconnect();
    }
  }
});
