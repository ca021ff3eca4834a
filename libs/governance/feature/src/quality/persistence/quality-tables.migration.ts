import { assertSchemaName } from '@keel/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The replay gate's reports (with overrides) and the drift monitor's evaluations, in `schema`. */
export function governanceQualityMigration(schema: string): new () => MigrationInterface {
  assertSchemaName(schema);
  const table = (name: string) => `"${schema}"."${name}"`;
  return class GovernanceQuality1764900000100 implements MigrationInterface {
    readonly name = 'GovernanceQuality1764900000100';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`
        CREATE TABLE ${table('replay_reports')} (
          tenant text NOT NULL,
          release_id text NOT NULL,
          run integer NOT NULL,
          against_release text,
          candidate jsonb NOT NULL,
          policy jsonb NOT NULL,
          summary jsonb NOT NULL,
          passed boolean NOT NULL,
          reasons jsonb NOT NULL,
          run_by text NOT NULL,
          run_at timestamptz NOT NULL,
          override_by text,
          override_reason text,
          override_at timestamptz,
          PRIMARY KEY (tenant, release_id, run)
        )`);
      await queryRunner.query(`
        CREATE TABLE ${table('drift_evaluations')} (
          id bigserial PRIMARY KEY,
          tenant text NOT NULL,
          release_id text NOT NULL,
          version text NOT NULL,
          evaluated_at timestamptz NOT NULL,
          breached boolean NOT NULL,
          rolled_back boolean NOT NULL,
          report jsonb NOT NULL
        )`);
      await queryRunner.query(
        `CREATE INDEX "drift_evaluations_release_idx" ON ${table('drift_evaluations')} (tenant, release_id, id)`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE ${table('drift_evaluations')}`);
      await queryRunner.query(`DROP TABLE ${table('replay_reports')}`);
    }
  };
}
