import { fromKafkaRecord, topics } from '@keel/contracts';
import { KafkaRecordSender, MessagingSchema, OutboxRelay, OutboxWriter } from '@keel/messaging';
import {
  dropSchema,
  isolatedTopic,
  readTopic,
  schemaDataSource,
  sequencedCaseEvent,
  testKafka,
  uniqueName,
  waitFor,
} from '@keel/testing';
import type { DataSource } from 'typeorm';

describe('outbox relay woken by commits', () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const schema = uniqueName('wakeup');
  const tables = new MessagingSchema(schema);
  let dataSource: DataSource;
  let relay: OutboxRelay | undefined;

  beforeAll(async () => {
    dataSource = await schemaDataSource(schema);
  });

  afterAll(async () => {
    await relay?.stop();
    await sender.disconnect();
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  const unpublished = async () =>
    (
      await dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM ${tables.outbox} WHERE published_at IS NULL`,
      )
    ).length;
  const published = async () =>
    (
      await dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM ${tables.outbox} WHERE published_at IS NOT NULL`,
      )
    ).length;

  it('publishes rows as the transaction that wrote them commits, long before the next poll', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    const outbox = new OutboxWriter(tables);
    // Two minutes between polls: a row published within seconds was published because its commit woke the relay.
    relay = new OutboxRelay({ dataSource, tables, sender, pollIntervalMs: 120_000 });
    relay.start();
    const write = (seq: number) =>
      dataSource.transaction((manager) =>
        outbox.enqueue(manager, topic, [sequencedCaseEvent('case-w', seq)]),
      );

    // The first poll may or may not see this one; once it is out, the relay waits for its interval.
    await write(1);
    await waitFor(async () => (await published()) === 1, { what: 'the first row', timeoutMs: 20_000 });
    // A write that rolls back leaves nothing to publish.
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.enqueue(manager, topic, [sequencedCaseEvent('case-w', 99)]);
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    await write(2);
    await write(3);
    await waitFor(async () => (await unpublished()) === 0 && (await published()) === 3, {
      what: 'rows written after the relay went idle',
      timeoutMs: 20_000,
    });

    const records = await readTopic(kafka, topic.name, 3);
    expect(
      records.map(
        (record) =>
          fromKafkaRecord({ key: record.key, value: record.value, headers: record.headers ?? {} }).id,
      ),
    ).toEqual(['case-w-1', 'case-w-2', 'case-w-3']);
  });
});
