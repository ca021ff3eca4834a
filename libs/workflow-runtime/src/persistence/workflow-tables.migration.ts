import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The workflow service's own tables (schema `workflow`): pinned definitions, instance checkpoints, the
 * transition log, the task queue and durable timers. The outbox and processed-event tables come from
 * `messagingTablesMigration`.
 */
export class WorkflowTables1764000000100 implements MigrationInterface {
  readonly name = 'WorkflowTables1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "workflow"`);
    await queryRunner.query(`
      CREATE TABLE "workflow"."definitions" (
        name text NOT NULL,
        version int NOT NULL,
        content_hash text NOT NULL,
        definition jsonb NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE "workflow"."instances" (
        id text PRIMARY KEY,
        workflow_name text NOT NULL,
        workflow_version int NOT NULL,
        status text NOT NULL,
        case_id text NOT NULL,
        tenant text NOT NULL,
        correlation_id text NOT NULL,
        seq int NOT NULL,
        state jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX "instances_status_idx" ON "workflow"."instances" (status) WHERE finished_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "instances_finished_at_idx" ON "workflow"."instances" (finished_at) WHERE finished_at IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "instances_case_idx" ON "workflow"."instances" (case_id)`);
    await queryRunner.query(`
      CREATE TABLE "workflow"."transitions" (
        instance_id text NOT NULL REFERENCES "workflow"."instances" (id) ON DELETE CASCADE,
        seq int NOT NULL,
        input jsonb NOT NULL,
        status text NOT NULL,
        events jsonb NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (instance_id, seq)
      )`);
    await queryRunner.query(`
      CREATE TABLE "workflow"."tasks" (
        id bigserial PRIMARY KEY,
        instance_id text NOT NULL REFERENCES "workflow"."instances" (id) ON DELETE CASCADE,
        kind text NOT NULL,
        step_id text NOT NULL,
        run int NOT NULL,
        attempt int NOT NULL,
        idempotency_key text NOT NULL,
        call jsonb NOT NULL,
        timeout_ms int NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        lease_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        UNIQUE (instance_id, kind, step_id, run, attempt)
      )`);
    await queryRunner.query(
      `CREATE INDEX "tasks_pending_idx" ON "workflow"."tasks" (id) WHERE status = 'pending'`,
    );
    await queryRunner.query(`
      CREATE TABLE "workflow"."timers" (
        instance_id text NOT NULL REFERENCES "workflow"."instances" (id) ON DELETE CASCADE,
        timer_id text NOT NULL,
        step_id text NOT NULL,
        purpose text NOT NULL,
        due_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'scheduled',
        PRIMARY KEY (instance_id, timer_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX "timers_due_idx" ON "workflow"."timers" (due_at) WHERE status = 'scheduled'`,
    );
    await queryRunner.query(`
      CREATE TABLE "workflow"."schedules" (
        workflow_name text NOT NULL,
        workflow_version int NOT NULL,
        next_run_at timestamptz NOT NULL,
        PRIMARY KEY (workflow_name, workflow_version)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['schedules', 'timers', 'tasks', 'transitions', 'instances', 'definitions']) {
      await queryRunner.query(`DROP TABLE "workflow"."${table}"`);
    }
  }
}
