import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The document registry of retrieval, in the schema the service owns. */
export function documentRegistryMigration(schema: string): new () => MigrationInterface {
  return class DocumentRegistry1764300000000 implements MigrationInterface {
    readonly name = 'DocumentRegistry1764300000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`
        CREATE TABLE "${schema}"."documents" (
          tenant text NOT NULL,
          document_id text NOT NULL,
          version int NOT NULL,
          content_hash text NOT NULL,
          title text NOT NULL,
          chunk_count int NOT NULL,
          indexed_at timestamptz NOT NULL,
          deleted_at timestamptz,
          PRIMARY KEY (tenant, document_id)
        )`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE "${schema}"."documents"`);
    }
  };
}
