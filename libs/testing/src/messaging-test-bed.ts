import { join } from 'node:path';
import {
  EventConsumer,
  type EventConsumerOptions,
  EventPublisher,
  KafkaRecordSender,
  MessagingSchema,
} from '@keel/messaging';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { startTsProcess, type TestProcess } from './child-process';
import { effectsTableMigration } from './fixtures/effects-table.migration';
import { testDatabaseUrl, testKafkaBrokers } from './test-environment';
import { dropSchema, schemaDataSource, testKafka, uniqueName } from './test-infrastructure';

const processes = join(__dirname, 'processes');

export interface MessagingTestBedOptions {
  /** Prefix of the scratch schema's name. */
  readonly schemaPrefix: string;
  /** `test` (the default): every test gets a fresh schema; `file`: the file's tests share one. */
  readonly scope?: 'test' | 'file';
  /** Whether the schema holds the effects table beside the messaging tables (default true). */
  readonly effectsTable?: boolean;
}

/** What a consumer started on the bed must be told; the rest defaults to the bed's (see `consumerOptions`). */
export type TestConsumerOptions = Pick<EventConsumerOptions, 'subscriptions'> & Partial<EventConsumerOptions>;

/** A group member in its own process (`processes/effects-consumer.process.ts`), so a test can SIGKILL it. */
export interface EffectsConsumerProcess {
  readonly topic: string;
  readonly group: string;
  readonly member: string;
}

export interface MessagingTestBed {
  /** One client, sender and publisher on the test broker for the whole file. */
  readonly kafka: Kafka;
  readonly sender: KafkaRecordSender;
  readonly publisher: EventPublisher;
  /** The scratch schema of the running test (of the file, with scope `file`), and a data source on it. */
  readonly schema: string;
  readonly dataSource: DataSource;
  readonly tables: MessagingSchema;
  /** The bed's client, a fresh group, its data source, tables and sender for dead letters — unless overridden. */
  consumerOptions(options: TestConsumerOptions): EventConsumerOptions;
  /** Starts a consumer with `consumerOptions`; it is stopped at teardown. */
  startConsumer(options: TestConsumerOptions): Promise<EventConsumer>;
  /** `env` adds to (or overrides) the process's settings; it is SIGKILLed at teardown if still running. */
  startEffectsConsumerProcess(member: EffectsConsumerProcess, env?: Record<string, string>): TestProcess;
  /** An outbox relay on the bed's schema in its own process (`processes/outbox-relay.process.ts`). */
  startOutboxRelayProcess(env?: Record<string, string>): TestProcess;
  /** Runs at teardown before the schema is dropped, the last one registered first. */
  afterwards(cleanup: () => Promise<void>): void;
  /** The effects table's rows in the order they were applied. */
  appliedSeqs(): Promise<number[]>;
  appliedEventIds(): Promise<string[]>;
  effectCount(): Promise<number>;
  /** Rows in the effects table and distinct event ids among them: equal when nothing was applied twice. */
  effectTotals(): Promise<{ rows: number; events: number }>;
}

interface ScratchSchema {
  readonly schema: string;
  readonly tables: MessagingSchema;
  readonly dataSource: DataSource;
}

/**
 * The setup the messaging specs share, with its jest hooks registered in the calling `describe`: a scratch
 * schema holding the messaging tables (and the effects table `recordEffects` writes), consumers and member
 * processes that are stopped before the schema is dropped, and one broker client for the file.
 */
export function messagingTestBed({
  schemaPrefix,
  scope = 'test',
  effectsTable = true,
}: MessagingTestBedOptions): MessagingTestBed {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  const cleanups: Array<() => Promise<void>> = [];
  let current: ScratchSchema | undefined;

  const setUp = async () => {
    const schema = uniqueName(schemaPrefix);
    const dataSource = await schemaDataSource(schema, effectsTable ? [effectsTableMigration(schema)] : []);
    current = { schema, tables: new MessagingSchema(schema), dataSource };
  };
  const tearDown = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    if (current === undefined) return;
    const { schema, dataSource } = current;
    current = undefined;
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  };
  if (scope === 'test') {
    beforeEach(setUp);
    afterEach(tearDown);
    afterAll(() => sender.disconnect());
  } else {
    beforeAll(setUp);
    afterAll(async () => {
      await tearDown();
      await sender.disconnect();
    });
  }

  const scratch = (): ScratchSchema => {
    if (current === undefined)
      throw new Error('the messaging test bed has no schema here: its hooks set one up around the tests');
    return current;
  };
  const afterwards = (cleanup: () => Promise<void>) => {
    cleanups.push(cleanup);
  };
  const consumerOptions = (options: TestConsumerOptions): EventConsumerOptions => ({
    kafka,
    groupId: uniqueName('group'),
    dataSource: scratch().dataSource,
    tables: scratch().tables,
    deadLetters: sender,
    ...options,
  });
  const startProcess = (entry: string, env: Record<string, string>) => {
    const started = startTsProcess(join(processes, entry), {
      TEST_SCHEMA: scratch().schema,
      TEST_DATABASE_URL: testDatabaseUrl,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      ...env,
    });
    afterwards(() => started.kill('SIGKILL'));
    return started;
  };
  const effects = () => `"${scratch().schema}".effects`;

  return {
    kafka,
    sender,
    publisher,
    get schema() {
      return scratch().schema;
    },
    get dataSource() {
      return scratch().dataSource;
    },
    get tables() {
      return scratch().tables;
    },
    consumerOptions,
    async startConsumer(options) {
      const consumer = new EventConsumer(consumerOptions(options));
      afterwards(() => consumer.stop());
      await consumer.start();
      return consumer;
    },
    startEffectsConsumerProcess: ({ topic, group, member }, env = {}) =>
      startProcess('effects-consumer.process.ts', {
        TEST_TOPIC: topic,
        TEST_GROUP: group,
        TEST_MEMBER: member,
        ...env,
      }),
    startOutboxRelayProcess: (env = {}) => startProcess('outbox-relay.process.ts', env),
    afterwards,
    appliedSeqs: async () =>
      (
        await scratch().dataSource.query<Array<{ seq: number }>>(
          `SELECT seq FROM ${effects()} ORDER BY applied`,
        )
      ).map((row) => row.seq),
    appliedEventIds: async () =>
      (
        await scratch().dataSource.query<Array<{ event_id: string }>>(
          `SELECT event_id FROM ${effects()} ORDER BY applied`,
        )
      ).map((row) => row.event_id),
    effectCount: async () =>
      (await scratch().dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM ${effects()}`))[0].n,
    effectTotals: async () =>
      (
        await scratch().dataSource.query<[{ rows: number; events: number }]>(
          `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS events FROM ${effects()}`,
        )
      )[0],
  };
}
