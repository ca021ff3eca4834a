import { assertSchemaName } from '@keel/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Governance's tables in `schema`: the registry's versions, releases and each tenant's production line, the
 * audit chain with its heads, and API keys (only their secrets' hashes).
 */
export function governanceTablesMigration(schema: string): new () => MigrationInterface {
  assertSchemaName(schema);
  const table = (name: string) => `"${schema}"."${name}"`;
  return class GovernanceTables1764300000200 implements MigrationInterface {
    readonly name = 'GovernanceTables1764300000200';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`
        CREATE TABLE ${table('artifact_versions')} (
          tenant text NOT NULL,
          kind text NOT NULL,
          name text NOT NULL,
          version integer NOT NULL,
          content_hash text NOT NULL,
          content jsonb NOT NULL,
          author text NOT NULL,
          created_at timestamptz NOT NULL,
          PRIMARY KEY (tenant, kind, name, version)
        )`);
      await queryRunner.query(`
        CREATE TABLE ${table('release_scopes')} (
          tenant text PRIMARY KEY,
          production_line jsonb NOT NULL DEFAULT '[]'
        )`);
      await queryRunner.query(`
        CREATE TABLE ${table('releases')} (
          tenant text NOT NULL,
          id text NOT NULL,
          author text NOT NULL,
          state text NOT NULL,
          approved_by text,
          contents jsonb NOT NULL,
          history jsonb NOT NULL,
          PRIMARY KEY (tenant, id)
        )`);
      await queryRunner.query(`
        CREATE TABLE ${table('audit_heads')} (
          tenant text PRIMARY KEY,
          position bigint NOT NULL,
          row_hash text NOT NULL
        )`);
      await queryRunner.query(`
        CREATE TABLE ${table('audit_log')} (
          tenant text NOT NULL,
          position bigint NOT NULL,
          event_id text NOT NULL,
          topic text NOT NULL,
          type text NOT NULL,
          subject text NOT NULL,
          occurred_at text NOT NULL,
          event jsonb NOT NULL,
          previous_hash text NOT NULL,
          row_hash text NOT NULL,
          recorded_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant, position)
        )`);
      // Lineage reads a case's rows in chain order.
      await queryRunner.query(
        `CREATE INDEX "audit_log_case_idx" ON ${table('audit_log')} (tenant, subject, position)`,
      );
      await queryRunner.query(`
        CREATE TABLE ${table('api_keys')} (
          id text PRIMARY KEY,
          tenant text NOT NULL,
          client text NOT NULL,
          roles text[] NOT NULL,
          secret_hash text NOT NULL,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL,
          revoked_at timestamptz
        )`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      for (const name of [
        'api_keys',
        'audit_log',
        'audit_heads',
        'releases',
        'release_scopes',
        'artifact_versions',
      ]) {
        await queryRunner.query(`DROP TABLE ${table(name)}`);
      }
    }
  };
}
