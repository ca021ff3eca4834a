import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The decision queue: the consumer only remembers the case event and queues its trigger (one short
 * transaction with the processed-event mark); a worker decides outside any transaction and publishes in a short
 * one. `position` orders the queue and bounds a trigger's case history to what was remembered before it, so a
 * decision sees the same memory however late it is made. Case events remembered before this migration have
 * position 0: they precede every trigger.
 */
export class DecisioningDecisionQueue1764400000100 implements MigrationInterface {
  readonly name = 'DecisioningDecisionQueue1764400000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE "decisioning"."memory_position"`);
    await queryRunner.query(
      `ALTER TABLE "decisioning"."case_events" ADD COLUMN position bigint NOT NULL DEFAULT 0`,
    );
    await queryRunner.query(`ALTER TABLE "decisioning"."case_events" ALTER COLUMN position DROP DEFAULT`);
    await queryRunner.query(`
      CREATE TABLE "decisioning"."decision_triggers" (
        decision_id text PRIMARY KEY,
        position bigint NOT NULL,
        tenant text NOT NULL,
        case_id text NOT NULL,
        -- json, not jsonb: the trigger keeps the bytes it arrived with, as the record's replay section does.
        trigger json NOT NULL,
        envelope json NOT NULL,
        enqueued_at timestamptz NOT NULL DEFAULT now(),
        -- Set when deciding failed for good: the row stays as the dead letter, out of the queue.
        failed_at timestamptz,
        error text
      )`);
    await queryRunner.query(
      `CREATE INDEX "decision_triggers_queue_idx" ON "decisioning"."decision_triggers" (position) WHERE failed_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "decisioning"."decision_triggers"`);
    await queryRunner.query(`ALTER TABLE "decisioning"."case_events" DROP COLUMN position`);
    await queryRunner.query(`DROP SEQUENCE "decisioning"."memory_position"`);
  }
}
