import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every instance names the governance release it started under (null: started before any release was in
 * force), so a run can be explained and re-run under exactly what produced it. An instance keeps its
 * release for life, like its pinned workflow version.
 */
export class WorkflowInstanceRelease1764300000000 implements MigrationInterface {
  readonly name = 'WorkflowInstanceRelease1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow"."instances" ADD COLUMN release_id text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow"."instances" DROP COLUMN release_id`);
  }
}
