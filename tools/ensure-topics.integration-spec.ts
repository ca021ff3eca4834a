import { allTopics, deadLetterRetentionMs, deadLetterTopicName, namespacedTopics } from '@keel/contracts';
import { startTsProcess, testKafka, testKafkaBrokers, uniqueName } from '@keel/testing';
import { ConfigResourceTypes } from 'kafkajs';

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

  it('creates every registry topic and its dead-letter topic with the registry partitions and retention, once', async () => {
    // A topic that already exists with another partition count and the broker's default retention keeps its
    // partitions (shown as differing) and gets the registry's retention.
    const caseEvents = namespacedTopics(namespace).caseEvents.name;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: caseEvents, numPartitions: 2 }] });

    const first = await run();
    const second = await run();

    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const table = (output: string) => output.split('\n').filter((line) => line.startsWith(`  ${namespace}`));
    expect(table(second.output)).toEqual(table(first.output));
    expect(table(first.output)).toHaveLength(allTopics.length * 2);
    expect(first.output).toContain(`set the registry's retention on ${caseEvents}\n`);
    expect(second.output).not.toContain("set the registry's retention");

    const names = platformTopics.flatMap((topic) => [topic.name, deadLetterTopicName(topic.name)]);
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    const partitions = Object.fromEntries(topics.map((topic) => [topic.name, topic.partitions.length]));
    const retention = await retentionOf(names);
    for (const topic of platformTopics) {
      expect(partitions[deadLetterTopicName(topic.name)]).toBe(1);
      if (topic.name !== caseEvents) expect(partitions[topic.name]).toBe(topic.partitions);
      expect(retention[topic.name]).toBe(topic.retentionMs);
      expect(retention[deadLetterTopicName(topic.name)]).toBe(deadLetterRetentionMs);
    }
    expect(partitions[caseEvents]).toBe(2);
    expect(first.output).toContain(
      `${caseEvents.padEnd(48)} 2 partitions  retention 3 d  (registry says 6)`,
    );
  });

  async function retentionOf(names: readonly string[]): Promise<Record<string, number>> {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['retention.ms'],
      })),
    });
    return Object.fromEntries(
      resources.map((resource) => [resource.resourceName, Number(resource.configEntries[0]?.configValue)]),
    );
  }
});
