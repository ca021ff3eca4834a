import {
  type TopicDefinition,
  deadLetterRetentionMs,
  deadLetterTopicName,
  topicSegmentMs,
} from '@keel/contracts';
import type { ITopicConfig } from 'kafkajs';
import type { KafkaPort } from './kafka-port';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** `retention.ms`: never the broker default, which consumers' deduplication windows know nothing of. */
  readonly retentionMs: number;
}

/** The topics and their dead-letter twins, as the registry defines them. */
export function topicSpecsWithDeadLetters(topics: readonly TopicDefinition[]): TopicSpec[] {
  return topics.flatMap((topic) => [
    { name: topic.name, partitions: topic.partitions, retentionMs: topic.retentionMs },
    { name: deadLetterTopicName(topic.name), partitions: 1, retentionMs: deadLetterRetentionMs },
  ]);
}

/** The topic-level settings the registry owns: retention, and the segment roll that bounds how late it acts. */
export function topicConfigEntries(spec: TopicSpec): NonNullable<ITopicConfig['configEntries']> {
  return [
    { name: 'retention.ms', value: String(spec.retentionMs) },
    { name: 'segment.ms', value: String(topicSegmentMs) },
  ];
}

/** Creates the topics that do not exist yet (auto-creation is off: partitions are part of the contract). */
export async function ensureTopics(kafka: KafkaPort, specs: readonly TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: 1,
        configEntries: topicConfigEntries(spec),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
