import { assertSchemaName } from '@keel/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables a service keeps the releases it applied in, in its own schema: what is in force per tenant and
 * stage (so a restart resumes it without governance), and every applied step in order. Each service lists
 * it among its migrations (a class per schema, so TypeORM records it under a distinct name).
 */
export function releasesTablesMigration(
  schema: string,
  timestamp = 1764900000000,
): new () => MigrationInterface {
  assertSchemaName(schema);
  const name = `ReleasesTables${timestamp}`;
  return class implements MigrationInterface {
    readonly name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await queryRunner.query(`
        CREATE TABLE "${schema}"."releases_in_force" (
          tenant text NOT NULL,
          stage text NOT NULL CHECK (stage IN ('production', 'shadow')),
          release_id text NOT NULL,
          sequence bigint NOT NULL,
          contents jsonb NOT NULL,
          artifacts jsonb NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant, stage)
        )`);
      // Append-only: one row per lifecycle step applied, so the order releases were in force is kept.
      await queryRunner.query(`
        CREATE TABLE "${schema}"."release_applications" (
          tenant text NOT NULL,
          sequence bigint NOT NULL,
          stage text NOT NULL,
          release_id text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant, sequence)
        )`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE "${schema}"."release_applications"`);
      await queryRunner.query(`DROP TABLE "${schema}"."releases_in_force"`);
    }
  };
}
