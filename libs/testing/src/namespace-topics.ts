import type { Kafka } from 'kafkajs';

/** Deletes every topic of a spec's namespace (`<namespace>.…`), so a long-lived broker does not pile them up. */
export async function deleteNamespaceTopics(kafka: Kafka, namespace: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}
