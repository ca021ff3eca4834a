import { topics } from '@keel/contracts';
import { EventConsumer } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  recordEffects,
  sequencedCaseEvent,
  uniqueName,
  waitFor,
} from '@keel/testing';
import { DeliveryCounter } from './delivery-counter';

describe('delivery counts on Postgres', () => {
  const bed = messagingTestBed({ schemaPrefix: 'counts' });

  it('tell a redelivery after a crash from a batch this process sees again, and count a crashed run’s records alone', async () => {
    // Each counter is one consumer process; the previous one died where the next one is created.
    const [first, second, third] = [1, 2, 3].map(() => new DeliveryCounter(bed.dataSource, bed.tables, 'g'));
    expect(await first.countRun('t', 0, '0', '9')).toBeUndefined();
    expect(await first.countRun('t', 0, '10', '19')).toBeUndefined();
    // kafkajs retrying the batch, or the partition coming back after a rebalance: no crash, nothing counted.
    expect(await first.countRun('t', 0, '10', '19')).toBeUndefined();

    // The first process died during 10–19; the next is redelivered from an earlier committed offset.
    expect(await second.countRun('t', 0, '5', '14')).toEqual({ from: 10n, to: 19n });
    expect(await second.countAlone('t', 0, '10')).toBe(2);
    expect(await second.countAlone('t', 0, '11')).toBe(2);
    // The second died on 11: the third resumes at 11, still within the range that never finished.
    expect(await third.countRun('t', 0, '11', '30')).toEqual({ from: 11n, to: 19n });
    expect(await third.countAlone('t', 0, '11')).toBe(3);
    expect(await third.countAlone('t', 0, '11')).toBe(3);
    expect(await third.countAlone('t', 0, '12')).toBe(2);
    // Past the range: runs again, one statement each.
    expect(await third.countRun('t', 0, '20', '29')).toBeUndefined();
    // Other groups, topics and partitions are counted apart.
    expect(await second.countRun('t', 1, '0', '9')).toBeUndefined();
  });

  it('are required: a consumer refuses to start without the table, naming the migration to list', async () => {
    const { schema, dataSource, tables } = bed;
    await dataSource.query(`DROP TABLE ${tables.deliveryCounts}`);
    const consumer = new EventConsumer(
      bed.consumerOptions({ subscriptions: [recordEffects(topics.caseEvents, schema, 'none')] }),
    );
    await expect(consumer.start()).rejects.toThrow(
      `"${schema}"."delivery_counts" does not exist: list messagingDeliveryCountsMigration('${schema}')`,
    );
  });

  it('count afresh when the group replays records from before the row (offsets reset past the dedupe window)', async () => {
    const { schema, dataSource, tables } = bed;
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const groupId = uniqueName('group');
    // Left by an earlier pass over the partition, by a process long gone.
    await dataSource.query(`INSERT INTO ${tables.deliveryCounts} VALUES ($1, $2, 0, 100, 149, 1, 'gone')`, [
      groupId,
      topic.name,
    ]);
    await bed.publisher.publish(
      topic,
      [1, 2, 3].map((seq) => sequencedCaseEvent('case-r', seq)),
    );
    await bed.startConsumer({ groupId, subscriptions: [recordEffects(topic, schema, 'replay')] });
    await waitFor(async () => (await bed.effectCount()) === 3, { what: 'the replayed records' });
    const [row] = await dataSource.query<Array<{ first_offset: string; last_offset: string }>>(
      `SELECT first_offset, last_offset FROM ${tables.deliveryCounts} WHERE consumer_group = $1`,
      [groupId],
    );
    expect(row).toEqual({ first_offset: '0', last_offset: '2' });
  });
});
