import { randomBytes } from 'node:crypto';
import type { AnyTopic } from '@keel/contracts';
import {
  createKafka,
  ensureTopics,
  messagingDeliveryCountsMigration,
  messagingTablesMigration,
  topicSpecsWithDeadLetters,
} from '@keel/messaging';
import type { Kafka } from 'kafkajs';
import { testDatabaseUrl, testKafkaBrokers, testTopicScope } from './test-environment';
import { DataSource, type MigrationInterface } from 'typeorm';

/** A name no other test run uses: topics, groups and schemas are isolated per test. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return createKafka({ brokers: testKafkaBrokers, clientId });
}

/** A copy of a registry topic under a fresh name (same schema and partitions), with its DLQ created. */
export async function isolatedTopic<T extends AnyTopic>(
  kafka: Kafka,
  topic: T,
  partitions = topic.partitions,
): Promise<T> {
  const copy = { ...topic, name: `${topic.name}.${testTopicScope('t')}`, partitions };
  await ensureTopics(kafka, topicSpecsWithDeadLetters([copy]));
  return copy;
}

/** A data source on the test database with a fresh schema holding the messaging tables (and any others). */
export async function schemaDataSource(
  schema: string,
  migrations: Array<new () => MigrationInterface> = [],
): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: testDatabaseUrl,
    schema,
    migrations: [messagingTablesMigration(schema), messagingDeliveryCountsMigration(schema), ...migrations],
    extra: { max: 10 },
  });
  await dataSource.initialize();
  await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

/**
 * A replica's data source on `url` (the test database by default): a pool of two of its own, as another
 * process would have.
 */
export function replicaDataSource(url = testDatabaseUrl): Promise<DataSource> {
  return new DataSource({
    type: 'postgres',
    url,
    extra: { max: 2, connectionTimeoutMillis: 2_000 },
  }).initialize();
}

export async function dropSchema(dataSource: DataSource, schema: string): Promise<void> {
  await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Polls a condition until it holds (never a fixed sleep as synchronisation). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
