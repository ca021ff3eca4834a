// Creates the platform topics on the broker: every registry topic and its dead-letter twin, with the
// registry's partition counts and retention (auto topic creation is off, since both are part of the
// contract). An existing topic keeps its partitions (they cannot shrink) but gets the registry's retention:
// the services' deduplication windows are validated against it, not against whatever the broker defaulted
// to. Then prints the platform topics as the broker has them.
// `npm run start:stack` runs it; it reads KAFKA_BROKERS and KEEL_TOPIC_NAMESPACE like the services do.
import { commonConfigSchema, ConfigError, loadConfig } from '@keel/config';
import { namespacedTopics } from '@keel/contracts';
import {
  createKafka,
  ensureTopics,
  topicConfigEntries,
  type TopicSpec,
  topicSpecsWithDeadLetters,
} from '@keel/messaging';
import { type Admin, ConfigResourceTypes } from 'kafkajs';

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

const hour = 3_600_000;

function hours(ms: number): string {
  return ms % (24 * hour) === 0 ? `${ms / (24 * hour)} d` : `${ms / hour} h`;
}

/** The settings the registry owns, as the broker has them, by topic name. */
async function topicSettings(
  admin: Admin,
  specs: readonly TopicSpec[],
): Promise<Map<string, Record<string, string>>> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((spec) => ({
      type: ConfigResourceTypes.TOPIC,
      name: spec.name,
      configNames: topicConfigEntries(spec).map((entry) => entry.name),
    })),
  });
  return new Map(
    resources.map((resource) => [
      resource.resourceName,
      Object.fromEntries(resource.configEntries.map((entry) => [entry.configName, entry.configValue])),
    ]),
  );
}

function matchesRegistry(spec: TopicSpec, settings: Record<string, string> | undefined): boolean {
  return topicConfigEntries(spec).every((entry) => settings?.[entry.name] === entry.value);
}

/** The settings once the broker reports the registry's everywhere (an alteration takes a moment to show). */
async function settledSettings(
  admin: Admin,
  specs: readonly TopicSpec[],
): Promise<Map<string, Record<string, string>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const settings = await topicSettings(admin, specs);
    const settled = specs.every((spec) => matchesRegistry(spec, settings.get(spec.name)));
    if (settled || Date.now() > deadline) return settings;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const { KAFKA_BROKERS, KEEL_TOPIC_NAMESPACE } = loadConfig(commonConfigSchema);
  const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'keel-ensure-topics' });
  const specs = topicSpecsWithDeadLetters(Object.values(namespacedTopics(KEEL_TOPIC_NAMESPACE)));
  await ensureTopics(kafka, specs);

  const admin = kafka.admin();
  await admin.connect();
  try {
    const before = await topicSettings(admin, specs);
    const drifted = specs.filter((spec) => !matchesRegistry(spec, before.get(spec.name)));
    if (drifted.length > 0) {
      // Not incremental: the topic's overrides become exactly the registry's settings.
      await admin.alterConfigs({
        validateOnly: false,
        resources: drifted.map((spec) => ({
          type: ConfigResourceTypes.TOPIC,
          name: spec.name,
          configEntries: topicConfigEntries(spec),
        })),
      });
      print(`set the registry's retention on ${drifted.map((spec) => spec.name).join(', ')}`);
    }

    const settings = await settledSettings(admin, specs);
    const names = await admin.listTopics();
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.name) });
    const partitions = new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
    print(`kafka topics on ${KAFKA_BROKERS.join(',')}:`);
    for (const spec of specs) {
      const actual = partitions.get(spec.name);
      // Partitions of an existing topic are never altered, so a count that differs from the registry shows here.
      const note = actual === spec.partitions ? '' : `  (registry says ${spec.partitions})`;
      const count = `${actual} partition${actual === 1 ? '' : 's'}`;
      const retention = hours(Number(settings.get(spec.name)?.['retention.ms']));
      print(`  ${spec.name.padEnd(48)} ${count.padEnd(13)} retention ${retention}${note}`);
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
