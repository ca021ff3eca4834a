import type { Kafka, KafkaMessage } from 'kafkajs';
import { uniqueName, waitFor } from './test-infrastructure';

/** Reads a topic from the beginning with a throwaway group until `expected` records have arrived. */
export async function readTopic(kafka: Kafka, topic: string, expected: number): Promise<KafkaMessage[]> {
  const reader = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      eachMessage: ({ message }) => {
        messages.push(message);
        return Promise.resolve();
      },
    });
    await waitFor(() => messages.length >= expected, { what: `${expected} records on ${topic}` });
  } finally {
    await reader.disconnect();
  }
  return messages;
}
