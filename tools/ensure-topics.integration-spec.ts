import { allTopics, deadLetterTopicName, namespacedTopics } from '@keel/contracts';
import { ensureTopics } from '@keel/messaging';
import { startTsProcess, testKafka, testKafkaBrokers, uniqueName } from '@keel/testing';

// A namespace of its own, so the run creates its own copies of the platform topics on the shared broker.
const namespace = uniqueName('ensure');
const platformTopics = Object.values(namespacedTopics(namespace));
const kafka = testKafka();

async function run(): Promise<{ code: number | null; output: string }> {
  const tool = startTsProcess('tools/ensure-topics.ts', {
    KAFKA_BROKERS: testKafkaBrokers.join(','),
    KEEL_TOPIC_NAMESPACE: namespace,
  });
  const code = await new Promise<number | null>((resolve) => tool.child.once('exit', resolve));
  return { code, output: tool.output() };
}

describe('tools/ensure-topics', () => {
  const admin = kafka.admin();
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.deleteTopics({
      topics: (await admin.listTopics()).filter((name) => name.startsWith(namespace)),
    });
    await admin.disconnect();
  });

  it('creates every registry topic and its dead-letter topic with the registry partitions, once', async () => {
    // A topic that already exists with another partition count is left alone, and shown as differing.
    const caseEvents = namespacedTopics(namespace).caseEvents.name;
    await ensureTopics(kafka, [{ name: caseEvents, partitions: 2 }]);

    const first = await run();
    const second = await run();

    expect(first.code).toBe(0);
    expect(second).toEqual(first);
    const { topics } = await admin.fetchTopicMetadata({
      topics: platformTopics.flatMap((topic) => [topic.name, deadLetterTopicName(topic.name)]),
    });
    const partitions = Object.fromEntries(topics.map((topic) => [topic.name, topic.partitions.length]));
    for (const topic of platformTopics) {
      expect(partitions[deadLetterTopicName(topic.name)]).toBe(1);
      if (topic.name !== caseEvents) expect(partitions[topic.name]).toBe(topic.partitions);
    }
    expect(partitions[caseEvents]).toBe(2);
    expect(first.output).toContain(`${caseEvents.padEnd(48)} 2 partitions  (registry says 6)`);
    expect(first.output.split('\n').filter((line) => line.includes(namespace))).toHaveLength(
      allTopics.length * 2,
    );
  });
});
