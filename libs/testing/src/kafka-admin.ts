import type { Admin, Kafka } from 'kafkajs';

/** Runs `use` with a connected admin client and disconnects it however `use` ends. */
export async function withKafkaAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Records written to a topic since it was created: the sum of its partitions' high watermarks (a test's
 * topics are fresh and nothing is deleted from them while it runs).
 */
export function recordsOnTopic(kafka: Kafka, topic: string): Promise<number> {
  return withKafkaAdmin(kafka, async (admin) =>
    (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0),
  );
}
