import { join } from 'node:path';
import { type CaseEvent, type CloudEvent, fromKafkaRecord, topics } from '@keel/contracts';
import { MessagingSchema, OutboxWriter } from '@keel/messaging';
import {
  dropSchema,
  isolatedTopic,
  readTopic,
  schemaDataSource,
  sequencedCaseEvent,
  startTsProcess,
  testDatabaseUrl,
  testKafka,
  testKafkaBrokers,
  type TestProcess,
  uniqueName,
} from '@keel/testing';
import type { DataSource } from 'typeorm';

const processes = join(__dirname, '../../testing/src/processes');

describe('outbox order with two relays on one table', () => {
  const kafka = testKafka();
  const relays: TestProcess[] = [];
  const schema = uniqueName('order');
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await schemaDataSource(schema);
  });

  afterAll(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.kill('SIGKILL')));
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  it('publishes each key’s events in commit order while concurrent writers commit and two relay processes run', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 3);
    const tables = new MessagingSchema(schema);
    const outbox = new OutboxWriter(tables);
    for (let started = 0; started < 2; started++) {
      const relay = startTsProcess(join(processes, 'outbox-relay.process.ts'), {
        TEST_SCHEMA: schema,
        TEST_DATABASE_URL: testDatabaseUrl,
        KAFKA_BROKERS: testKafkaBrokers.join(','),
        // Small batches: the two relays take turns often, which is where they could interleave.
        RELAY_BATCH_SIZE: '10',
      });
      relays.push(relay);
      await relay.waitForOutput('relay running');
    }

    // Like Keel's writers, a transaction holds its case's lock while it writes the case's events, so a
    // case's sequence numbers are its commit order.
    const keys = 40;
    const writers = 8;
    const transactionsPerWriter = 60;
    const writeCase = (caseId: string, count: number) =>
      dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${schema}.${caseId}`]);
        const [{ written }] = await manager.query<[{ written: number }]>(
          `SELECT count(*)::int AS written FROM ${tables.outbox} WHERE message_key = $1`,
          [caseId],
        );
        const events = Array.from({ length: count }, (_, i) => sequencedCaseEvent(caseId, written + i + 1));
        await outbox.enqueue(manager, topic, events);
        return count;
      });
    const counts = await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        let written = 0;
        for (let t = 0; t < transactionsPerWriter; t++) {
          written += await writeCase(`case-${(writer * 7 + t * 13) % keys}`, 1 + (t % 3));
        }
        return written;
      }),
    );
    const total = counts.reduce((sum, count) => sum + count, 0);

    const records = await readTopic(kafka, topic.name, total);
    // Nothing was published twice (no relay crashed, so at-least-once gives exactly once here).
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic.name).finally(() => admin.disconnect());
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(total);
    const seqsByKey = new Map<string, number[]>();
    for (const record of records) {
      const event = fromKafkaRecord({
        key: record.key,
        value: record.value,
        headers: record.headers ?? {},
      }) as CloudEvent<CaseEvent>;
      const seq = Number(event.data.attributes.seq);
      seqsByKey.set(event.subject, [...(seqsByKey.get(event.subject) ?? []), seq]);
    }
    expect(records).toHaveLength(total);
    expect(seqsByKey.size).toBe(keys);
    const outOfOrder = [...seqsByKey]
      .filter(([, seqs]) => seqs.some((seq, i) => seq !== i + 1))
      .map(([key, seqs]) => `${key}: ${seqs.join(',')}`);
    expect(outOfOrder).toEqual([]);
    expect(relays.map((relay) => relay.output())).toEqual([
      expect.stringContaining('sent'),
      expect.stringContaining('sent'),
    ]);
  });
});
