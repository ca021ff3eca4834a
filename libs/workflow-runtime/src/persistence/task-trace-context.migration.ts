import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A task attempt keeps the W3C trace context of the transition that queued it, so the worker that claims it
 * later — another process, maybe — continues the same trace: one trace from the request that started the
 * case to the last step. Null when tracing is off.
 */
export class WorkflowTaskTraceContext1765000000000 implements MigrationInterface {
  readonly name = 'WorkflowTaskTraceContext1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow"."tasks" ADD COLUMN traceparent text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow"."tasks" DROP COLUMN traceparent`);
  }
}
