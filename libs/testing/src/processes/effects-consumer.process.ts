// A consumer group member run as its own process by delivery tests, so it can be SIGKILLed mid-stream, or
// taken down by its own handler:
// - TEST_EXIT_ON_EVENT: the handler ends the process (`process.exit`) on that event, like a crash or OOM;
// - TEST_FREEZE_ON_EVENT: the handler never returns on that event (it prints `freezing on <id>` first, so
//   the test can kill it, as a liveness probe would);
// - TEST_FAIL_ON_EVENT: the handler fails that event for good (NonRetryableError), in this process only;
// - TEST_KILL_AFTER_DEAD_LETTER: the process SIGKILLs itself as soon as the consumer reports a dead letter
//   (before the offset is committed);
// - TEST_ACCEPT_SEQ_MULTIPLE_OF: the subscription accepts only events whose seq is a multiple of it.
import { type CaseEvent, topics } from '@keel/contracts';
import {
  EventConsumer,
  KafkaRecordSender,
  MessagingSchema,
  NonRetryableError,
  type SubscriptionOptions,
  createKafka,
  subscribe,
} from '@keel/messaging';
import { DataSource } from 'typeorm';
import { recordEffects } from '../fixtures/case-effects';

function acceptedSeqs(multipleOf: string | undefined): SubscriptionOptions<CaseEvent> {
  if (multipleOf === undefined) return {};
  return { accepts: (event) => Number(event.data.attributes.seq) % Number(multipleOf) === 0 };
}

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
  const effects = recordEffects(topic, schema, memberName);
  const subscription = subscribe(
    topic,
    async (event, context) => {
      if (event.id === process.env.TEST_EXIT_ON_EVENT) process.exit(1);
      if (event.id === process.env.TEST_FREEZE_ON_EVENT) {
        console.log(`freezing on ${event.id}`);
        for (;;);
      }
      if (event.id === process.env.TEST_FAIL_ON_EVENT) throw new NonRetryableError(`rejected ${event.id}`);
      await effects.handler(event, context);
    },
    acceptedSeqs(process.env.TEST_ACCEPT_SEQ_MULTIPLE_OF),
  );
  const sessionTimeoutMs = Number(process.env.TEST_SESSION_TIMEOUT_MS ?? 6_000);
  const consumer = new EventConsumer({
    kafka,
    groupId: env('TEST_GROUP'),
    subscriptions: [subscription],
    dataSource,
    tables: new MessagingSchema(schema),
    deadLetters: new KafkaRecordSender(kafka),
    sessionTimeoutMs,
    heartbeatIntervalMs: Math.min(1_000, sessionTimeoutMs / 4),
    retry: { maxAttempts: 3, initialDelayMs: 50, multiplier: 2, maxDelayMs: 500 },
    ...(process.env.TEST_MAX_DELIVERIES ? { maxDeliveries: Number(process.env.TEST_MAX_DELIVERIES) } : {}),
    logger: {
      warn: (message, fields) => console.log(`${message} ${JSON.stringify(fields)}`),
      error: (message, fields) => {
        console.log(`${message} ${JSON.stringify(fields)}`);
        if (message === 'record dead-lettered' && process.env.TEST_KILL_AFTER_DEAD_LETTER === '1')
          process.kill(process.pid, 'SIGKILL');
      },
    },
  });
  await consumer.start();
  console.log(`member ${memberName} consuming`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
