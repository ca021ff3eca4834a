// An outbox relay run as its own process by the outbox tests. With KILL_AFTER_FIRST_SEND it SIGKILLs
// itself right after the broker acknowledged its first batch and before that batch is marked published:
// the crash window that forces republishing. SIGTERM stops it as a service stops: the batch in flight is
// finished and marked, and the lead goes to another relay.
import {
  KafkaRecordSender,
  MessagingSchema,
  OutboxRelay,
  type OutgoingRecord,
  createKafka,
} from '@keel/messaging';
import { DataSource } from 'typeorm';

async function main(): Promise<void> {
  const schema = process.env.TEST_SCHEMA ?? '';
  const kafka = createKafka({
    brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
    clientId: 'outbox-relay',
  });
  const dataSource = await new DataSource({
    type: 'postgres',
    url: process.env.TEST_DATABASE_URL,
    schema,
  }).initialize();
  const kafkaSender = new KafkaRecordSender(kafka);
  const killAfterFirstSend = process.env.KILL_AFTER_FIRST_SEND === '1';
  const sender = {
    async send(records: readonly OutgoingRecord[]): Promise<void> {
      await kafkaSender.send(records);
      console.log(`sent ${records.length}`);
      if (killAfterFirstSend) process.kill(process.pid, 'SIGKILL');
    },
  };
  const relay = new OutboxRelay({
    dataSource,
    tables: new MessagingSchema(schema),
    sender,
    batchSize: Number(process.env.RELAY_BATCH_SIZE ?? 100),
    pollIntervalMs: 50,
    onError: (error) => console.error(error),
  });
  relay.start();
  process.once('SIGTERM', () => {
    void relay.stop().then(() => process.exit(0));
  });
  console.log('relay running');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
