import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What is left of a finished instance once retention deletes it: enough to recognise a replayed `start` of
 * it (and answer what became of it) instead of running it again. Kept for the deduplication window, which
 * outlasts every consumed topic's retention, so no record that could start it again is still on Kafka when
 * its tombstone goes.
 */
export class WorkflowInstanceTombstones1764000000500 implements MigrationInterface {
  readonly name = 'WorkflowInstanceTombstones1764000000500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "workflow"."instance_tombstones" (
        instance_id text PRIMARY KEY,
        workflow_name text NOT NULL,
        workflow_version int NOT NULL,
        status text NOT NULL,
        finished_at timestamptz NOT NULL,
        pruned_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "instance_tombstones_pruned_at_idx" ON "workflow"."instance_tombstones" (pruned_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "workflow"."instance_tombstones"`);
  }
}
