import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Task attempts get Temporal's timeouts (ADR 0005). A claimed attempt is `running` (before, it stayed
 * `pending` with a lease, so a newer attempt could supersede it mid-call); `timeout_ms` is its start-to-close,
 * counted from `claimed_at`; `schedule_deadline` bounds its wait in the queue; `heartbeat_timeout_ms` lets a
 * long attempt's lease be short and renewed while the call is alive. Overdue rows are found through the two
 * partial indexes and timed out by the timer poller.
 */
export class WorkflowTaskTimeouts1764000000300 implements MigrationInterface {
  readonly name = 'WorkflowTaskTimeouts1764000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "workflow"."tasks"
        ADD COLUMN schedule_deadline timestamptz,
        ADD COLUMN heartbeat_timeout_ms int,
        ADD COLUMN claimed_at timestamptz`);
    await queryRunner.query(
      `COMMENT ON COLUMN "workflow"."tasks".timeout_ms IS 'start-to-close: how long an attempt may run from its claim'`,
    );
    // Attempts claimed under the old scheme are running; their lease still says when they time out.
    await queryRunner.query(
      `UPDATE "workflow"."tasks" SET status = 'running', claimed_at = created_at
       WHERE status = 'pending' AND lease_until IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_running_lease_idx" ON "workflow"."tasks" (lease_until) WHERE status = 'running'`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_schedule_deadline_idx" ON "workflow"."tasks" (schedule_deadline)
       WHERE status = 'pending' AND schedule_deadline IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow"."tasks_schedule_deadline_idx"`);
    await queryRunner.query(`DROP INDEX "workflow"."tasks_running_lease_idx"`);
    await queryRunner.query(`UPDATE "workflow"."tasks" SET status = 'pending' WHERE status = 'running'`);
    await queryRunner.query(`
      ALTER TABLE "workflow"."tasks"
        DROP COLUMN schedule_deadline,
        DROP COLUMN heartbeat_timeout_ms,
        DROP COLUMN claimed_at`);
  }
}
