import { type CaseEvent, type CloudEvent, fromKafkaRecord, topics } from '@keel/contracts';
import { OutboxWriter } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordsOnTopic,
  sequencedCaseEvent,
  type TestProcess,
  waitFor,
} from '@keel/testing';

describe('outbox order with two relays on one table', () => {
  const bed = messagingTestBed({ schemaPrefix: 'order', effectsTable: false });

  const unpublished = async () =>
    (
      await bed.dataSource.query<[{ n: number }]>(
        `SELECT count(*)::int AS n FROM ${bed.tables.outbox} WHERE published_at IS NULL`,
      )
    )[0].n;

  // The first relay to take the table’s lock leads; early in the writes it goes away, and the other
  // takes over. Stopped, it marks what it sent first, so nothing is published twice; killed, the rows it sent
  // and did not mark are published again, and a consumer deduplicating by event id still sees each key's
  // events in order.
  it.each([
    ['stopped', 'SIGTERM'],
    ['killed', 'SIGKILL'],
  ] as const)(
    'publishes each key’s events in commit order while concurrent writers commit and the leading relay of two is %s',
    async (_, signal) => {
      const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 3);
      const { schema, dataSource, tables } = bed;
      const outbox = new OutboxWriter(tables);
      const relays: TestProcess[] = [];
      for (let started = 0; started < 2; started++) {
        // Small batches: many of them, so the handover falls between two of them mid-stream.
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
      const handover = async () => {
        await waitFor(() => relays.some((relay) => relay.output().includes('sent')), {
          what: 'a relay leading',
        });
        const leader = relays.findIndex((relay) => relay.output().includes('sent'));
        await relays[leader].kill(signal);
        return leader;
      };
      const [leader, ...counts] = await Promise.all([
        handover(),
        ...Array.from({ length: writers }, async (_, writer) => {
          let written = 0;
          for (let t = 0; t < transactionsPerWriter; t++) {
            written += await writeCase(`case-${(writer * 7 + t * 13) % keys}`, 1 + (t % 3));
          }
          return written;
        }),
      ]);
      const total = counts.reduce((sum, count) => sum + count, 0);

      await waitFor(async () => (await unpublished()) === 0, { what: 'every row published' });
      const onTopic = await recordsOnTopic(bed.kafka, topic.name);
      if (signal === 'SIGTERM') expect(onTopic).toBe(total);
      else expect(onTopic).toBeGreaterThanOrEqual(total);
      const records = await readTopic(bed.kafka, topic.name, onTopic);
      const seen = new Set<string>();
      const seqsByKey = new Map<string, number[]>();
      for (const record of records) {
        const event = fromKafkaRecord({
          key: record.key,
          value: record.value,
          headers: record.headers ?? {},
        }) as CloudEvent<CaseEvent>;
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        const seq = Number(event.data.attributes.seq);
        seqsByKey.set(event.subject, [...(seqsByKey.get(event.subject) ?? []), seq]);
      }
      expect(seen.size).toBe(total);
      expect(seqsByKey.size).toBe(keys);
      const outOfOrder = [...seqsByKey]
        .filter(([, seqs]) => seqs.some((seq, i) => seq !== i + 1))
        .map(([key, seqs]) => `${key}: ${seqs.join(',')}`);
      expect(outOfOrder).toEqual([]);
      // The other relay took over: it published what was written after the handover.
      expect(relays[1 - leader].output()).toContain('sent');
    },
  );
});
