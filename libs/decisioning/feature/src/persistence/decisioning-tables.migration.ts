import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The decisioning service's own tables (schema `decisioning`): the case memory the agent reads as case history,
 * and every decision record it published, for audit and offline replay.
 */
export class DecisioningTables1764100000100 implements MigrationInterface {
  readonly name = 'DecisioningTables1764100000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "decisioning"."case_events" (
        tenant text NOT NULL,
        case_id text NOT NULL,
        event_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        event jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant, case_id, event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX "case_events_history_idx" ON "decisioning"."case_events" (tenant, case_id, occurred_at DESC, event_id DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE "decisioning"."decisions" (
        decision_id text PRIMARY KEY,
        tenant text NOT NULL,
        case_id text NOT NULL,
        -- json, not jsonb: the record is kept byte for byte as published, so a replay can be compared to it.
        record json NOT NULL,
        decided_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "decisions_case_idx" ON "decisioning"."decisions" (tenant, case_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "decisioning"."decisions"`);
    await queryRunner.query(`DROP TABLE "decisioning"."case_events"`);
  }
}
