import { type CaseEvent, type CloudEvent, encodeEvent, topics } from '@keel/contracts';
import { type EventRunContext, InProcessBus, subscribeRuns } from '@keel/messaging';
import { isolatedTopic, messagingTestBed, sequencedCaseEvent, uniqueName, waitFor } from '@keel/testing';

/** A subscription that gathers its topic's records (`gatherMs`) beside one that does not, in one consumer. */
describe('EventConsumer gathering a topic between fetches', () => {
  const bed = messagingTestBed({ schemaPrefix: 'gather' });
  // Far longer than a fetch takes here, so that what the pause holds back is unmistakable.
  const gatherMs = 3_000;

  const insertEffects = (events: ReadonlyArray<CloudEvent<CaseEvent>>, context: EventRunContext) =>
    context.manager.query(
      `INSERT INTO "${bed.schema}".effects (event_id, case_id, seq, consumer)
       SELECT id, case_id, seq, 'gather' FROM unnest($1::text[], $2::text[], $3::int[]) AS e(id, case_id, seq)`,
      [events.map((e) => e.id), events.map((e) => e.subject), events.map((e) => e.data.attributes.seq)],
    );

  it('holds a gathered partition back between fetches and hands what came meanwhile over in one run, while the other topic flows', async () => {
    const gathered = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const flowing = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const runs: Array<{ topic: string; seqs: number[]; at: number }> = [];
    const recording =
      (topic: string) => async (events: ReadonlyArray<CloudEvent<CaseEvent>>, context: EventRunContext) => {
        runs.push({ topic, seqs: events.map((event) => Number(event.data.attributes.seq)), at: Date.now() });
        await insertEffects(events, context);
      };
    await bed.startConsumer({
      subscriptions: [
        subscribeRuns(gathered, recording('gathered'), { gatherMs }),
        subscribeRuns(flowing, recording('flowing')),
      ],
    });
    const runsOf = (topic: string) => runs.filter((run) => run.topic === topic);

    await bed.publisher.publish(gathered, [sequencedCaseEvent('case-g', 1)]);
    await waitFor(() => Promise.resolve(runsOf('gathered').length === 1), {
      what: 'the first gathered record',
    });
    for (const seq of [2, 3, 4, 5])
      await bed.publisher.publish(gathered, [sequencedCaseEvent('case-g', seq)]);
    await bed.publisher.publish(flowing, [sequencedCaseEvent('case-f', 100)]);

    await waitFor(() => Promise.resolve(runsOf('flowing').length === 1), { what: 'the flowing record' });
    // The flowing topic was fetched while the gathered partition waited out its pause.
    expect(runsOf('gathered')).toHaveLength(1);
    await waitFor(async () => (await bed.appliedSeqs()).length === 6, {
      what: 'every record applied',
      timeoutMs: 20_000,
    });
    const [first, second, ...rest] = runsOf('gathered');
    expect(rest).toEqual([]);
    expect(first?.seqs).toEqual([1]);
    expect(second?.seqs).toEqual([2, 3, 4, 5]);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(gatherMs - 500);
    // In the order applied: the flowing record went ahead of the four held back.
    expect(await bed.appliedSeqs()).toEqual([1, 100, 2, 3, 4, 5]);
  });

  it('resumes what it paused once stopped, so that the consumer started again reads at once (in-process bus, which keeps pauses across runs)', async () => {
    const bus = new InProcessBus();
    const kafka = bus.client('gather');
    const topic = { ...topics.caseEvents, name: uniqueName('gather-bus') };
    await kafka.admin().createTopics({ topics: [{ topic: topic.name, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    const publish = (seq: number) =>
      producer.sendBatch({
        topicMessages: [
          { topic: topic.name, messages: [encodeEvent(topic, sequencedCaseEvent('case-s', seq))] },
        ],
      });
    const handled: number[] = [];
    const consumer = await bed.startConsumer({
      kafka,
      subscriptions: [
        subscribeRuns(
          topic,
          async (events: ReadonlyArray<CloudEvent<CaseEvent>>, context: EventRunContext) => {
            handled.push(...events.map((event) => Number(event.data.attributes.seq)));
            await insertEffects(events, context);
          },
          // Far longer than the test: only the stop's resume lets the second record through.
          { gatherMs: 600_000 },
        ),
      ],
    });
    await publish(1);
    await waitFor(() => Promise.resolve(handled.length === 1), { what: 'the first record' });
    await consumer.stop();
    await publish(2);
    await consumer.start();

    await waitFor(() => Promise.resolve(handled.includes(2)), { what: 'the record after the restart', timeoutMs: 10_000 });
    expect(await bed.appliedSeqs()).toEqual([1, 2]);
  });
});
