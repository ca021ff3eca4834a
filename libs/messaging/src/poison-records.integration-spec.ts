import { deadLetterTopicName, topics } from '@keel/contracts';
import { deadLetterHeaders } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordHeader,
  sequencedCaseEvent,
  uniqueName,
} from '@keel/testing';

/**
 * Records whose handler takes the whole process down: no error reaches the consumer, so only a count kept
 * outside the process can tell the record that keeps killing its consumers. Members run as real processes.
 */
describe('poison records that take the process down', () => {
  const bed = messagingTestBed({ schemaPrefix: 'poison' });

  it('dead-letters a record whose handler exits and one whose handler never returns after 2 deliveries each; the records around them are applied once', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    await bed.publisher.publish(
      topic,
      Array.from({ length: 8 }, (_, i) => sequencedCaseEvent('case-p', i + 1)),
    );
    const group = uniqueName('group');
    const settled = async () => (await bed.appliedSeqs()).length === 6;

    // Each member is restarted when its handler took it down — exited, or frozen and then killed, as an
    // orchestrator's liveness probe would — until the stream is through (or it clearly never will be).
    let starts = 0;
    while (!(await settled()) && starts < 8) {
      starts += 1;
      const member = bed.startEffectsConsumerProcess(
        { topic: topic.name, group, member: `member-${starts}` },
        {
          TEST_EXIT_ON_EVENT: 'case-p-3',
          TEST_FREEZE_ON_EVENT: 'case-p-6',
          TEST_MAX_DELIVERIES: '2',
          TEST_SESSION_TIMEOUT_MS: '2000',
        },
      );
      for (;;) {
        if (member.child.exitCode !== null) break;
        if (member.output().includes('freezing on')) {
          await member.kill('SIGKILL');
          break;
        }
        if (await settled()) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    expect(await bed.appliedSeqs()).toEqual([1, 2, 4, 5, 7, 8]);
    const deadLetters = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 2);
    const header = (index: number, name: string) => recordHeader(deadLetters[index], name);
    expect(deadLetters.map((_, i) => header(i, 'ce_id'))).toEqual(['case-p-3', 'case-p-6']);
    expect(deadLetters.map((_, i) => header(i, deadLetterHeaders.reason))).toEqual([
      'delivery-limit',
      'delivery-limit',
    ]);
    expect(deadLetters.map((_, i) => header(i, deadLetterHeaders.attempts))).toEqual(['2', '2']);
    expect(deadLetters.map((_, i) => header(i, deadLetterHeaders.originOffset))).toEqual(['2', '5']);
    // Two deliveries of each poison record, then one member to get past both.
    expect(starts).toBe(4);
  });
});
