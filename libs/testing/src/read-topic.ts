import type { Kafka, KafkaMessage } from 'kafkajs';
import { uniqueName, waitFor } from './test-infrastructure';

/**
 * Reads a topic from the beginning with a throwaway group until `expected` records that `matches` accepts
 * have arrived, and returns those.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  matches: (message: KafkaMessage) => boolean = () => true,
): Promise<KafkaMessage[]> {
  const reader = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      eachMessage: ({ message }) => {
        if (matches(message)) messages.push(message);
        return Promise.resolve();
      },
    });
    await waitFor(() => messages.length >= expected, { what: `${expected} records on ${topic}` });
  } finally {
    await reader.disconnect();
  }
  return messages;
}

/** A header of a record as text (undefined when the record or the header is missing). */
export function recordHeader(message: KafkaMessage | undefined, name: string): string | undefined {
  return message?.headers?.[name]?.toString();
}
