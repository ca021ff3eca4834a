// A consumer group member run as its own process by delivery tests, so it can be SIGKILLed mid-stream.
import { EventConsumer, KafkaRecordSender, MessagingSchema, createKafka } from '@keel/messaging';
import { topics } from '@keel/contracts';
import { DataSource } from 'typeorm';
import { recordEffects } from '../fixtures/case-effects';

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const schema = env('TEST_SCHEMA');
  const topic = { ...topics.caseEvents, name: env('TEST_TOPIC') };
  const memberName = env('TEST_MEMBER');
  const kafka = createKafka({ brokers: env('KAFKA_BROKERS').split(','), clientId: memberName });
  const dataSource = await new DataSource({
    type: 'postgres',
    url: env('TEST_DATABASE_URL'),
    schema,
  }).initialize();
  const consumer = new EventConsumer({
    kafka,
    groupId: env('TEST_GROUP'),
    subscriptions: [recordEffects(topic, schema, memberName)],
    dataSource,
    tables: new MessagingSchema(schema),
    deadLetters: new KafkaRecordSender(kafka),
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 1_000,
    retry: { maxAttempts: 3, initialDelayMs: 50, multiplier: 2, maxDelayMs: 500 },
  });
  await consumer.start();
  console.log(`member ${memberName} consuming`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
