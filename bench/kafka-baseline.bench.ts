// Kafka baseline: raw kafkajs produce→consume against the same traffic through libs/messaging
// (validated envelope, idempotent handling in a Postgres transaction, manual commits).
// Run: npm run bench -- kafka   (starts or reuses the local broker and Postgres)
import { performance } from 'node:perf_hooks';
import { encodeEvent, topics } from '@keel/contracts';
import { EventConsumer, EventPublisher, KafkaRecordSender, MessagingSchema, subscribe } from '@keel/messaging';
import {
  dropSchema,
  effectsTableMigration,
  isolatedTopic,
  schemaDataSource,
  sequencedCaseEvent,
  testKafka,
  uniqueName,
  waitFor,
} from '@keel/testing';
import { figures, printFigures, type RunFigures } from './bench-stats';

const messageCount = Number(process.env.BENCH_MESSAGES ?? 20_000);
const batchSize = 100;
const cases = 500;
const sentAtHeader = 'bench_sent_at';

const events = Array.from({ length: messageCount }, (_, i) => sequencedCaseEvent(`case-${i % cases}`, Math.floor(i / cases) + 1));

async function rawKafkajs(): Promise<RunFigures> {
  const kafka = testKafka();
  const topic = await isolatedTopic(kafka, topics.caseEvents, 6);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: uniqueName('raw'), maxWaitTimeInMs: 50 });
  const latencies: number[] = [];
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ message }) => {
      latencies.push(performance.now() - Number(message.headers?.[sentAtHeader]?.toString()));
    },
  });
  const records = events.map((event) => encodeEvent(topics.caseEvents, event));
  const started = performance.now();
  for (let start = 0; start < records.length; start += batchSize) {
    const sentAt = String(performance.now());
    await producer.send({
      topic: topic.name,
      acks: -1,
      messages: records.slice(start, start + batchSize).map((record) => ({
        key: record.key,
        value: record.value,
        headers: { ...record.headers, [sentAtHeader]: sentAt },
      })),
    });
  }
  await waitFor(async () => latencies.length >= messageCount, { timeoutMs: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  return figures('raw kafkajs (auto-commit, no effect)', latencies, seconds);
}

async function throughMessaging(): Promise<RunFigures> {
  const kafka = testKafka();
  const topic = await isolatedTopic(kafka, topics.caseEvents, 6);
  const schema = uniqueName('bench');
  const dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
  const sender = new KafkaRecordSender(kafka);
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  const consumer = new EventConsumer({
    kafka,
    groupId: uniqueName('keel'),
    dataSource,
    tables: new MessagingSchema(schema),
    deadLetters: sender,
    subscriptions: [
      subscribe(topic, async (event, context) => {
        await context.manager.query(
          `INSERT INTO "${schema}".effects (event_id, case_id, seq, consumer) VALUES ($1, $2, $3, 'bench')`,
          [event.id, event.subject, event.data.attributes.seq],
        );
        // Counted after the transaction commits would be truer still; the commit is a few hundred µs.
        latencies.push(performance.now() - (sentAt.get(event.id) ?? Number.NaN));
      }),
    ],
  });
  await consumer.start();
  const publisher = new EventPublisher(sender);
  const started = performance.now();
  for (let start = 0; start < events.length; start += batchSize) {
    const batch = events.slice(start, start + batchSize);
    const now = performance.now();
    for (const event of batch) sentAt.set(event.id, now);
    await publisher.publish(topic, batch);
  }
  await waitFor(async () => latencies.length >= messageCount, { timeoutMs: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  await sender.disconnect();
  await dropSchema(dataSource, schema);
  await dataSource.destroy();
  return figures('libs/messaging (validated, idempotent tx, manual commits)', latencies, seconds);
}

async function main(): Promise<void> {
  console.log(`Kafka baseline: ${messageCount} events (~${events[0] ? encodeEvent(topics.caseEvents, events[0]).value.length : 0} B value + ce_ headers), 6 partitions, ${cases} keys, batches of ${batchSize}, local single-node broker`);
  const raw = await rawKafkajs();
  const keel = await throughMessaging();
  printFigures([raw, keel]);
  console.log(`throughput ratio libs/messaging / raw: ${(keel.perSecond / raw.perSecond).toFixed(3)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
