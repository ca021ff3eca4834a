import type { Kafka } from 'kafkajs';
import { withKafkaAdmin } from './kafka-admin';

/** Deletes every topic of a spec's namespace (`<namespace>.…`), so a long-lived broker does not pile them up. */
export function deleteNamespaceTopics(kafka: Kafka, namespace: string): Promise<void> {
  return withKafkaAdmin(kafka, async (admin) => {
    const topics = (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  });
}
