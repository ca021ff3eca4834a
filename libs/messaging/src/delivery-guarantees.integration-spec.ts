import { topics } from '@keel/contracts';
import { OutboxWriter } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  recordEffects,
  recordsOnTopic,
  sequencedCaseEvent,
  uniqueName,
  waitFor,
  withKafkaAdmin,
} from '@keel/testing';

/** Crash tests: group members and the relay run as real processes and are SIGKILLed, not closed. */
describe('delivery guarantees under SIGKILL', () => {
  const bed = messagingTestBed({ schemaPrefix: 'crash' });

  async function expectExactlyOnceInOrder(expected: number): Promise<void> {
    expect(await bed.effectTotals()).toEqual({ rows: expected, events: expected });
    // Per case, effects were applied in the order the case's events were published.
    const outOfOrder = await bed.dataSource.query<unknown[]>(`
      SELECT case_id FROM (
        SELECT case_id, seq, lag(seq) OVER (PARTITION BY case_id ORDER BY applied) AS previous
        FROM "${bed.schema}".effects) ordered
      WHERE previous IS NOT NULL AND seq <= previous`);
    expect(outOfOrder).toEqual([]);
  }

  const startMember = (topic: string, group: string, member: string) =>
    bed.startEffectsConsumerProcess({ topic, group, member });

  it('applies 10,000 events over 6 partitions exactly once, in order per key, across a SIGKILLed member', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 6);
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
      await bed.publisher.publish(topic, events.slice(start, start + 1_000));
    }

    // Killed mid-stream: it has applied part of its partitions' records, and the stream is far from done.
    const appliedBy = async (member: string) =>
      (
        await bed.dataSource.query<[{ n: number }]>(
          `SELECT count(*)::int AS n FROM "${bed.schema}".effects WHERE consumer = $1`,
          [member],
        )
      )[0].n;
    await waitFor(async () => (await appliedBy('member-a')) >= 300, {
      what: 'member-a applying its records',
    });
    await first.kill('SIGKILL');
    expect(await bed.effectCount()).toBeLessThan(events.length);
    startMember(topic.name, group, 'member-a-restarted');

    await waitFor(async () => (await bed.effectCount()) >= events.length, {
      timeoutMs: 180_000,
      what: 'all effects',
    });
    await expectExactlyOnceInOrder(events.length);
    const members = await bed.dataSource.query<Array<{ consumer: string; n: number }>>(
      `SELECT consumer, count(*)::int AS n FROM "${bed.schema}".effects GROUP BY consumer ORDER BY consumer`,
    );
    // Both original members did part of the work (the restarted one joins while the others may finish).
    expect(members.map((row) => row.consumer)).toEqual(expect.arrayContaining(['member-a', 'member-b']));
  });

  it('republishes every outbox row after the relay is killed between publish and commit, and consumers deduplicate', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 3);
    const { dataSource, tables } = bed;
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

    const relayEnv = { RELAY_BATCH_SIZE: '100' };
    const doomed = bed.startOutboxRelayProcess({ ...relayEnv, KILL_AFTER_FIRST_SEND: '1' });
    await new Promise<void>((resolve) => doomed.child.once('exit', () => resolve()));
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(doomed.output()).toContain('sent 100');
    const [unpublished] = await dataSource.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM ${tables.outbox} WHERE published_at IS NULL`,
    );
    expect(unpublished.n).toBe(500);

    bed.startOutboxRelayProcess(relayEnv);
    await waitFor(
      async () =>
        (
          await dataSource.query<[{ n: number }]>(
            `SELECT count(*)::int AS n FROM ${tables.outbox} WHERE published_at IS NULL`,
          )
        )[0].n === 0,
      { what: 'every outbox row published' },
    );
    const published = await recordsOnTopic(bed.kafka, topic.name);
    expect(published).toBe(600); // the first batch twice

    const consumer = await bed.startConsumer({ subscriptions: [recordEffects(topic, bed.schema, 'dedup')] });
    await waitFor(async () => (await bed.effectCount()) >= 500, { what: '500 effects' });
    await waitFor(
      async () => {
        const [row] = await dataSource.query<[{ n: number }]>(
          `SELECT count(*)::int AS n FROM ${tables.processedEvents}`,
        );
        const lag = await withKafkaAdmin(bed.kafka, (admin) =>
          admin.fetchOffsets({ groupId: consumer.groupId, topics: [topic.name] }),
        );
        const committed = lag[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
        return row.n === 500 && committed === published;
      },
      { what: 'all 600 records consumed' },
    );
    await expectExactlyOnceInOrder(500);
  });
});
