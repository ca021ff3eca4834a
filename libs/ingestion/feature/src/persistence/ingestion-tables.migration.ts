import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The idempotency keys of accepted source events (`ingestion.idempotency_keys`). */
export class IngestionTables1764100000000 implements MigrationInterface {
  readonly name = 'IngestionTables1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ingestion"."idempotency_keys" (
        key text PRIMARY KEY,
        event_id text NOT NULL,
        topic text NOT NULL,
        subject text NOT NULL,
        accepted_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "idempotency_keys_accepted_at_idx" ON "ingestion"."idempotency_keys" (accepted_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ingestion"."idempotency_keys"`);
  }
}
