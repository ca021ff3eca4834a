import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /instances` lists one tenant's instances, newest first (the API scopes every query by the token's
 * tenant): without this index that is a scan of every tenant's rows and a sort.
 */
export class WorkflowInstancesTenantIndex1765100000000 implements MigrationInterface {
  readonly name = 'WorkflowInstancesTenantIndex1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "instances_tenant_created_idx" ON "workflow"."instances" (tenant, created_at DESC)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow"."instances_tenant_created_idx"`);
  }
}
