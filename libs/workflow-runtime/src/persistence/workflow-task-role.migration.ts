import type { MigrationInterface, QueryRunner } from 'typeorm';
import { workflowTaskRole } from '../connectors/postgres.connector';

/**
 * The role Postgres task statements run as (`SET LOCAL ROLE`): it cannot log in, owns nothing and has no
 * privilege on any schema, so a statement cannot change the database's structure or read the workflow's own
 * tables. The deployment grants it the DML its statements need on its own tables. Roles belong to the whole
 * cluster, so it is created once and shared by every database of the cluster.
 */
export class WorkflowTaskRole1764000000200 implements MigrationInterface {
  readonly name = 'WorkflowTaskRole1764000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${workflowTaskRole}') THEN
          CREATE ROLE ${workflowTaskRole} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
        END IF;
      END $$`);
    // The service switches to the role per statement, which needs membership.
    await queryRunner.query(`GRANT ${workflowTaskRole} TO CURRENT_USER`);
    await queryRunner.query(`REVOKE ALL ON SCHEMA "workflow" FROM ${workflowTaskRole}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`REVOKE ${workflowTaskRole} FROM CURRENT_USER`);
  }
}
