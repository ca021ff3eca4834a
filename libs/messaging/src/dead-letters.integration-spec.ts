import { type CaseEvent, type CloudEvent, deadLetterTopicName, topics } from '@keel/contracts';
import { deadLetterHeaders, NonRetryableError, subscribe, truncatedValueBytes } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordEffects,
  recordHeader,
  sequencedCaseEvent,
  uniqueName,
  waitFor,
  withKafkaAdmin,
} from '@keel/testing';

describe('dead letters', () => {
  const bed = messagingTestBed({ schemaPrefix: 'dlq' });

  it('are recorded as handled: a crash after dead-lettering, before the offset commit, does not let the redelivery process the record too', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    await bed.publisher.publish(
      topic,
      [1, 2, 3, 4].map((seq) => sequencedCaseEvent('case-d', seq)),
    );
    const group = uniqueName('group');
    const member = (name: string, env: Record<string, string> = {}) =>
      bed.startEffectsConsumerProcess(
        { topic: topic.name, group, member: name },
        { TEST_SESSION_TIMEOUT_MS: '2000', ...env },
      );

    // The first member rejects case-d-2 (the handler's verdict, in that process only) and dies right after
    // reporting the dead letter, before any offset is committed.
    const doomed = member('doomed', { TEST_FAIL_ON_EVENT: 'case-d-2', TEST_KILL_AFTER_DEAD_LETTER: '1' });
    await new Promise<void>((resolve) => doomed.child.once('exit', () => resolve()));
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(doomed.output()).toContain('record dead-lettered');

    // The next member would accept case-d-2; it must find it handled.
    member('next');
    await waitFor(async () => (await bed.appliedEventIds()).includes('case-d-4'), {
      what: 'the stream through',
    });
    await waitFor(
      async () => {
        const [committed] = await withKafkaAdmin(bed.kafka, (admin) =>
          admin.fetchOffsets({ groupId: group, topics: [topic.name] }),
        );
        return committed.partitions[0]?.offset === '4';
      },
      { what: 'the offsets committed past every record' },
    );
    expect(await bed.appliedEventIds()).toEqual(['case-d-1', 'case-d-3', 'case-d-4']);
    const [deadLetter] = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 1);
    expect(recordHeader(deadLetter, 'ce_id')).toBe('case-d-2');
  });

  it('too large for the broker once the dead-letter headers are added go as a truncated copy, and the partition moves on', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    // Just under the broker's 1 MiB record limit on its own topic; the dead-letter headers (a 3,900
    // character error among them) push its dead letter over it.
    const nearLimit = sequencedCaseEvent('case-l', 2, { padding: 'p'.repeat(1_045_000) });
    await bed.publisher.publish(topic, [
      sequencedCaseEvent('case-l', 1),
      nearLimit,
      sequencedCaseEvent('case-l', 3),
    ]);
    const effects = recordEffects(topic, bed.schema, 'large');
    await bed.startConsumer({
      subscriptions: [
        subscribe(topic, async (event: CloudEvent<CaseEvent>, context) => {
          if (event.id === nearLimit.id) throw new NonRetryableError(`rejected: ${'r'.repeat(3_900)}`);
          await effects.handler(event, context);
        }),
      ],
    });

    await waitFor(async () => (await bed.appliedEventIds()).includes('case-l-3'), {
      what: 'the record behind the dead letter',
    });
    expect(await bed.appliedEventIds()).toEqual(['case-l-1', 'case-l-3']);
    const [truncated] = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 1);
    const header = (name: string) => recordHeader(truncated, name);
    expect(header(deadLetterHeaders.reason)).toBe('too-large');
    expect(header(deadLetterHeaders.originalReason)).toBe('non-retryable');
    expect(header(deadLetterHeaders.originTopic)).toBe(topic.name);
    expect(header(deadLetterHeaders.originPartition)).toBe('0');
    expect(header(deadLetterHeaders.originOffset)).toBe('1');
    expect(header('ce_id')).toBe(nearLimit.id);
    expect(Number(header(deadLetterHeaders.originalBytes))).toBeGreaterThan(1_048_576);
    expect(truncated.value).toHaveLength(truncatedValueBytes);
  });
});
