import { type CaseEvent, type CloudEvent, deadLetterTopicName, topics } from '@keel/contracts';
import { type EventRunContext, subscribeRuns } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordHeader,
  sequencedCaseEvent,
  waitFor,
} from '@keel/testing';

describe('EventConsumer with a run handler (subscribeRuns)', () => {
  const bed = messagingTestBed({ schemaPrefix: 'runs' });

  /** All of a run's effects in one statement: the reason to handle runs. */
  const insertEffects = (events: ReadonlyArray<CloudEvent<CaseEvent>>, context: EventRunContext) =>
    context.manager.query(
      `INSERT INTO "${bed.schema}".effects (event_id, case_id, seq, consumer)
       SELECT id, case_id, seq, 'runs' FROM unnest($1::text[], $2::text[], $3::int[]) AS e(id, case_id, seq)`,
      [events.map((e) => e.id), events.map((e) => e.subject), events.map((e) => e.data.attributes.seq)],
    );

  const start = (
    topic: typeof topics.caseEvents,
    handler: (events: ReadonlyArray<CloudEvent<CaseEvent>>, context: EventRunContext) => Promise<void>,
  ) =>
    bed.startConsumer({
      subscriptions: [subscribeRuns(topic, handler)],
      retry: { maxAttempts: 2, initialDelayMs: 20, multiplier: 2, maxDelayMs: 50 },
    });

  it('hands a run’s fresh events over in one call, in order, each applied once although published twice', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const events = Array.from({ length: 40 }, (_, i) => sequencedCaseEvent('case-r', i + 1));
    // Published before the consumer starts, so its first fetch holds many; then every one again, then a last
    // one: once it is applied, the partition is through the second copies.
    await bed.publisher.publish(topic, events);
    await bed.publisher.publish(topic, events);
    await bed.publisher.publish(topic, [sequencedCaseEvent('case-r', 41)]);
    const runSizes: number[] = [];
    await start(topic, async (run, context) => {
      runSizes.push(run.length);
      await insertEffects(run, context);
    });

    const applied = await waitFor(async () => {
      const seqs = await bed.appliedSeqs();
      return seqs.includes(41) ? seqs : undefined;
    });
    expect(applied).toEqual([...events.map((_, i) => i + 1), 41]);
    expect(Math.max(...runSizes)).toBeGreaterThan(1);
    // Redeliveries are skipped before the handler: the second copies never reached it.
    expect(runSizes.reduce((sum, size) => sum + size, 0)).toBe(41);
  });

  it('finds the failing record of a failed run: the others apply once, it retries alone and is dead-lettered', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const events = Array.from({ length: 12 }, (_, i) => sequencedCaseEvent('case-f', i + 1));
    await bed.publisher.publish(topic, events);
    const calls = new Map<string, number>();
    await start(topic, async (run, context) => {
      for (const event of run) calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
      if (run.some((event) => event.id === 'case-f-5')) throw new Error('ledger refused case-f-5');
      await insertEffects(run, context);
    });

    const applied = await waitFor(async () => {
      const seqs = await bed.appliedSeqs();
      return seqs.length >= 11 ? seqs : undefined;
    });
    expect(applied).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]);
    const [deadLetter] = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 1);
    expect(recordHeader(deadLetter, 'ce_id')).toBe('case-f-5');
    // Once in the failed run, once when the run was redone a record at a time, then its second attempt.
    expect(calls.get('case-f-5')).toBe(3);
  });
});
