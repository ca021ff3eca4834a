import { type CaseEvent, type CloudEvent, deadLetterTopicName, topics } from '@keel/contracts';
import { deadLetterHeaders, type EventContext, subscribe } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordHeader,
  sequencedCaseEvent,
  uniqueName,
  waitFor,
  withKafkaAdmin,
} from '@keel/testing';
import { Client } from 'pg';

/** Subscriptions that accept only some of a topic's events (`accepts`): here, those whose seq is a multiple of 3. */
describe('EventConsumer with an accepts filter', () => {
  const bed = messagingTestBed({ schemaPrefix: 'accepts' });
  const multipleOfThree = (event: CloudEvent<CaseEvent>) => Number(event.data.attributes.seq) % 3 === 0;

  const insertEffect = (event: CloudEvent<CaseEvent>, context: EventContext) =>
    context.manager.query(
      `INSERT INTO "${bed.schema}".effects (event_id, case_id, seq, consumer) VALUES ($1, $2, $3, 'accepts')`,
      [event.id, event.subject, event.data.attributes.seq],
    );

  /** The group's committed offsets summed over the topic's partitions (none committed counts 0). */
  const committedOffsets = async (groupId: string, topic: string) => {
    const [{ partitions }] = await withKafkaAdmin(bed.kafka, (admin) =>
      admin.fetchOffsets({ groupId, topics: [topic] }),
    );
    return partitions.reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
  };

  const processedIds = async () =>
    (
      await bed.dataSource.query<Array<{ event_id: string }>>(
        `SELECT event_id FROM ${bed.tables.processedEvents} ORDER BY event_id`,
      )
    ).map((row) => row.event_id);

  it('never hands ignored records to the handler nor records or counts them; an undecodable one is still dead-lettered', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    // Offsets 0–13: seqs 1–14, accepted at offsets 2, 5, 8, 11; then an ignored tail and a contract violation.
    await bed.publisher.publish(
      topic,
      Array.from({ length: 14 }, (_, i) => sequencedCaseEvent('case-a', i + 1)),
    );
    await bed.sender.send([
      { topic: topic.name, key: 'case-a', value: Buffer.from('not an event'), headers: {} },
    ]);
    const handled: string[] = [];
    const consumer = await bed.startConsumer({
      subscriptions: [
        subscribe(
          topic,
          async (event, context) => {
            handled.push(event.id);
            await insertEffect(event, context);
          },
          { accepts: multipleOfThree },
        ),
      ],
    });

    await waitFor(async () => (await committedOffsets(consumer.groupId, topic.name)) === 15, {
      what: 'every record committed',
    });
    expect(handled).toEqual(['case-a-3', 'case-a-6', 'case-a-9', 'case-a-12']);
    expect(await bed.appliedSeqs()).toEqual([3, 6, 9, 12]);
    expect(await processedIds()).toEqual(['case-a-12', 'case-a-3', 'case-a-6', 'case-a-9']);
    // The delivery count describes accepted records only: it ends at seq 12's offset, not at the ignored tail.
    const counts = await bed.dataSource.query<Array<{ last_offset: string }>>(
      `SELECT last_offset FROM ${bed.tables.deliveryCounts} WHERE consumer_group = $1`,
      [consumer.groupId],
    );
    expect(counts).toEqual([{ last_offset: '11' }]);
    const [deadLetter] = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 1);
    expect(recordHeader(deadLetter, deadLetterHeaders.reason)).toBe('contract-violation');
  });

  it('sends no Postgres statement for records it ignores, one fetch at a time', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const consumer = await bed.startConsumer({
      subscriptions: [subscribe(topic, insertEffect, { accepts: multipleOfThree })],
    });
    await bed.publisher.publish(topic, [sequencedCaseEvent('case-q', 3)]);
    await waitFor(async () => (await committedOffsets(consumer.groupId, topic.name)) === 1, {
      what: 'the first accepted record committed',
    });

    // Every statement of this process from here on; the test itself only asks Kafka until it reads the count.
    const statements = jest.spyOn(Client.prototype, 'query');
    bed.afterwards(() => Promise.resolve(statements.mockRestore()));
    // Paced: each ignored record arrives alone, its own fetch and run.
    for (const [index, seq] of [4, 5, 7, 8, 10].entries()) {
      await bed.publisher.publish(topic, [sequencedCaseEvent('case-q', seq)]);
      await waitFor(async () => (await committedOffsets(consumer.groupId, topic.name)) === index + 2, {
        what: `ignored seq ${seq} committed`,
      });
    }
    expect(statements).not.toHaveBeenCalled();

    // The counter sees this consumer's statements: an accepted record costs them.
    await bed.publisher.publish(topic, [sequencedCaseEvent('case-q', 12)]);
    await waitFor(async () => (await committedOffsets(consumer.groupId, topic.name)) === 7, {
      what: 'the accepted record committed',
    });
    expect(statements.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(await bed.appliedSeqs()).toEqual([3, 12]);
  });

  it('commits no offset past an accepted record still retrying, not even when stopped with ignored records after it', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    // Seq 3 (offset 2) fails until released; seqs 4–10 after it are mostly ignored.
    await bed.publisher.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => sequencedCaseEvent('case-o', i + 1)),
    );
    let released = false;
    let failures = 0;
    const subscription = subscribe(
      topic,
      async (event, context) => {
        if (event.id === 'case-o-3' && !released) {
          failures += 1;
          throw new Error('ledger not ready for case-o-3');
        }
        await insertEffect(event, context);
      },
      { accepts: multipleOfThree },
    );
    const retry = { maxAttempts: 50, initialDelayMs: 100, multiplier: 1, maxDelayMs: 100 };
    const first = await bed.startConsumer({ subscriptions: [subscription], retry });
    const { groupId } = first;

    for (const retried of [3, 6]) {
      await waitFor(() => Promise.resolve(failures >= retried), { what: `${retried} failures of seq 3` });
      // Never past seq 3's offset (nothing is resolved before it is applied).
      expect(await committedOffsets(groupId, topic.name)).toBeLessThanOrEqual(2);
      expect(await bed.appliedSeqs()).toEqual([]);
    }
    // Stopping mid-retry commits what is durable: still nothing past seq 3, so the next member gets it.
    await first.stop();
    expect(await committedOffsets(groupId, topic.name)).toBeLessThanOrEqual(2);

    released = true;
    await bed.startConsumer({ groupId, subscriptions: [subscription], retry });
    await waitFor(async () => (await committedOffsets(groupId, topic.name)) === 10, {
      what: 'every record committed once seq 3 applied',
    });
    expect(await bed.appliedSeqs()).toEqual([3, 6, 9]);
    expect(await processedIds()).toEqual(['case-o-3', 'case-o-6', 'case-o-9']);
  });

  it('handles each accepted record once, in order, after a member crashed mid-run', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 3);
    const cases = Array.from({ length: 12 }, (_, c) => `case-${c}`);
    const eventsOf = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, s) =>
        cases.map((c) => sequencedCaseEvent(c, from + s)),
      ).flat();
    const group = uniqueName('group');
    const env = { TEST_ACCEPT_SEQ_MULTIPLE_OF: '3', TEST_SESSION_TIMEOUT_MS: '2000' };
    await bed.publisher.publish(topic, eventsOf(1, 30));
    const doomed = bed.startEffectsConsumerProcess(
      { topic: topic.name, group, member: 'member-a' },
      { ...env, TEST_EXIT_ON_EVENT: 'case-1-45' },
    );
    // The first part is applied and committed; the process then ends inside a run of the second.
    await waitFor(async () => (await committedOffsets(group, topic.name)) === 360, {
      what: 'the first 360 records committed',
    });
    await bed.publisher.publish(topic, eventsOf(31, 60));
    await new Promise<void>((resolve) => doomed.child.once('exit', () => resolve()));
    expect(doomed.child.exitCode).toBe(1);
    expect(await bed.effectCount()).toBeLessThan(240);

    bed.startEffectsConsumerProcess({ topic: topic.name, group, member: 'member-b' }, env);
    await waitFor(async () => (await committedOffsets(group, topic.name)) === 720, {
      timeoutMs: 60_000,
      what: 'all 720 records committed',
    });
    expect(await bed.effectTotals()).toEqual({ rows: 240, events: 240 });
    const outOfOrder = await bed.dataSource.query<unknown[]>(`
      SELECT case_id FROM (
        SELECT case_id, seq, lag(seq) OVER (PARTITION BY case_id ORDER BY applied) AS previous
        FROM "${bed.schema}".effects) ordered
      WHERE previous IS NOT NULL AND seq <= previous`);
    expect(outOfOrder).toEqual([]);
    const [{ ignoredApplied }] = await bed.dataSource.query<[{ ignoredApplied: number }]>(
      `SELECT count(*)::int AS "ignoredApplied" FROM "${bed.schema}".effects WHERE seq % 3 <> 0`,
    );
    expect(ignoredApplied).toBe(0);
    expect(await processedIds()).toHaveLength(240);
  });
});
