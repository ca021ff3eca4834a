// Creates the platform topics on the broker: every registry topic and its dead-letter twin, with the
// registry's partition counts (auto topic creation is off, since partitions are part of the contract).
// Topics that exist are left alone. Then prints the platform topics as the broker has them.
// `npm run start:stack` runs it; it reads KAFKA_BROKERS and KEEL_TOPIC_NAMESPACE like the services do.
import { commonConfigSchema, ConfigError, loadConfig } from '@keel/config';
import { namespacedTopics } from '@keel/contracts';
import { createKafka, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const { KAFKA_BROKERS, KEEL_TOPIC_NAMESPACE } = loadConfig(commonConfigSchema);
  const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'keel-ensure-topics' });
  const specs = topicSpecsWithDeadLetters(Object.values(namespacedTopics(KEEL_TOPIC_NAMESPACE)));
  await ensureTopics(kafka, specs);

  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = await admin.listTopics();
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.name) });
    const partitions = new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
    print(`kafka topics on ${KAFKA_BROKERS.join(',')}:`);
    for (const spec of specs) {
      const actual = partitions.get(spec.name);
      // An existing topic is never altered, so a partition count that differs from the registry shows here.
      const note = actual === spec.partitions ? '' : `  (registry says ${spec.partitions})`;
      print(`  ${spec.name.padEnd(48)} ${actual} partition${actual === 1 ? '' : 's'}${note}`);
    }
    const platform = new Set(specs.map((spec) => spec.name));
    const others = names.filter((name) => !platform.has(name) && !name.startsWith('__'));
    if (others.length > 0) print(`  + ${others.length} other topics (test runs, other namespaces)`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ensure-topics: ${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
