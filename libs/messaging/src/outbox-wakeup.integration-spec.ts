import { fromKafkaRecord, topics } from '@keel/contracts';
import { OutboxRelay, OutboxWriter } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordsOnTopic,
  sequencedCaseEvent,
  waitFor,
} from '@keel/testing';

describe('outbox relay woken by commits', () => {
  const bed = messagingTestBed({ schemaPrefix: 'wakeup', scope: 'file', effectsTable: false });

  it('publishes rows as the transaction that wrote them commits, long before the next poll', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const { dataSource, tables, sender } = bed;
    const outbox = new OutboxWriter(tables);
    // Two minutes between polls: a row on the topic within seconds was published because its commit woke the
    // relay. (Its outbox row is marked by the relay's next statement, which here is the next commit's.)
    const relay = new OutboxRelay({ dataSource, tables, sender, pollIntervalMs: 120_000 });
    bed.afterwards(() => relay.stop());
    relay.start();
    const write = (seq: number) =>
      dataSource.transaction((manager) =>
        outbox.enqueue(manager, topic, [sequencedCaseEvent('case-w', seq)]),
      );

    // The first poll may or may not see this one; once it is out, the relay waits for its interval.
    await write(1);
    const published = () => recordsOnTopic(bed.kafka, topic.name);
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
    await waitFor(async () => (await published()) === 3, {
      what: 'rows written after the relay went idle',
      timeoutMs: 20_000,
    });

    const records = await readTopic(bed.kafka, topic.name, 3);
    expect(
      records.map(
        (record) =>
          fromKafkaRecord({ key: record.key, value: record.value, headers: record.headers ?? {} }).id,
      ),
    ).toEqual(['case-w-1', 'case-w-2', 'case-w-3']);
  });
});
