import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The source schema versions ingestion admits against (`ingestion.source_schemas`): seeded from the bundled
 * files on a fresh install, then adopted from governance's registry. Kept here so a restart admits the same
 * versions without governance. Rows are only added: a (system, version) a source sends never changes meaning.
 */
export class IngestionSourceSchemas1764300000000 implements MigrationInterface {
  readonly name = 'IngestionSourceSchemas1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ingestion"."source_schemas" (
        system text NOT NULL,
        version integer NOT NULL,
        content jsonb NOT NULL,
        content_hash text NOT NULL,
        origin text NOT NULL CHECK (origin IN ('bundled', 'governance')),
        registry_version integer,
        adopted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (system, version)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ingestion"."source_schemas"`);
  }
}
