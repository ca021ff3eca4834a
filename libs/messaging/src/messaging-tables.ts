import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where a service keeps its messaging tables: its own Postgres schema. */
export class MessagingSchema {
  readonly processedEvents: string;
  readonly outbox: string;
  readonly deliveryCounts: string;

  constructor(readonly schema: string) {
    // Interpolated into SQL as an identifier, so it must be a plain one.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name '${schema}'`);
    this.processedEvents = `"${schema}"."processed_events"`;
    this.outbox = `"${schema}"."outbox"`;
    this.deliveryCounts = `"${schema}"."delivery_counts"`;
  }
}

/**
 * The migration that gives a service its idempotency and outbox tables. Each service lists it among its
 * own migrations (a class per schema, so TypeORM records it under a distinct name).
 */
export function messagingTablesMigration(
  schema: string,
  timestamp = 1764000000000,
): new () => MigrationInterface {
  const tables = new MessagingSchema(schema);
  const name = `MessagingTables${timestamp}`;
  return class implements MigrationInterface {
    readonly name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await queryRunner.query(`
        CREATE TABLE ${tables.processedEvents} (
          consumer_group text NOT NULL,
          event_id text NOT NULL,
          topic text NOT NULL,
          processed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (consumer_group, event_id)
        )`);
      await queryRunner.query(
        `CREATE INDEX "processed_events_processed_at_idx" ON ${tables.processedEvents} (processed_at)`,
      );
      await queryRunner.query(`
        CREATE TABLE ${tables.outbox} (
          id bigserial PRIMARY KEY,
          topic text NOT NULL,
          message_key text NOT NULL,
          value bytea NOT NULL,
          headers jsonb NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          published_at timestamptz
        )`);
      await queryRunner.query(
        `CREATE INDEX "outbox_unpublished_idx" ON ${tables.outbox} (id) WHERE published_at IS NULL`,
      );
      await queryRunner.query(
        `CREATE INDEX "outbox_published_at_idx" ON ${tables.outbox} (published_at) WHERE published_at IS NOT NULL`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE ${tables.outbox}`);
      await queryRunner.query(`DROP TABLE ${tables.processedEvents}`);
    }
  };
}

/**
 * The migration that gives a service its durable delivery counts (see `DeliveryCounter`). Listed by each
 * service after `messagingTablesMigration(schema)`.
 *
 * UNLOGGED: a count is written before every run of records, and an unlogged write needs no WAL flush at
 * commit. A Postgres crash empties the table; the cost is that a poison record gets its deliveries again
 * from zero, once. (It survives a consumer crash, which is what it is for.)
 */
export function messagingDeliveryCountsMigration(
  schema: string,
  timestamp = 1764200000000,
): new () => MigrationInterface {
  const tables = new MessagingSchema(schema);
  const name = `MessagingDeliveryCounts${timestamp}`;
  return class implements MigrationInterface {
    readonly name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`
        CREATE UNLOGGED TABLE ${tables.deliveryCounts} (
          consumer_group text NOT NULL,
          topic text NOT NULL,
          partition int NOT NULL,
          first_offset bigint NOT NULL,
          last_offset bigint NOT NULL,
          deliveries int NOT NULL,
          consumer_instance text NOT NULL,
          PRIMARY KEY (consumer_group, topic, partition)
        )`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE ${tables.deliveryCounts}`);
    }
  };
}
