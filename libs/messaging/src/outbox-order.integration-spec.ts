import { type CaseEvent, type CloudEvent, fromKafkaRecord, topics } from '@keel/contracts';
import { OutboxWriter } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordsOnTopic,
  sequencedCaseEvent,
  type TestProcess,
} from '@keel/testing';

describe('outbox order with two relays on one table', () => {
  const bed = messagingTestBed({ schemaPrefix: 'order', scope: 'file', effectsTable: false });

  it('publishes each key’s events in commit order while concurrent writers commit and two relay processes run', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 3);
    const { schema, dataSource, tables } = bed;
    const outbox = new OutboxWriter(tables);
    const relays: TestProcess[] = [];
    for (let started = 0; started < 2; started++) {
      // Small batches: the two relays take turns often, which is where they could interleave.
      const relay = bed.startOutboxRelayProcess({ RELAY_BATCH_SIZE: '10' });
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

    const records = await readTopic(bed.kafka, topic.name, total);
    // Nothing was published twice (no relay crashed, so at-least-once gives exactly once here).
    expect(await recordsOnTopic(bed.kafka, topic.name)).toBe(total);
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
