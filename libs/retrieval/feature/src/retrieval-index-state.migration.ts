import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What retrieval's stores need to outlive the process: the embedded index's documents and chunks with both
 * vectors (rebuilt into memory at boot), and the Qdrant adapter's documents in transition (what searches
 * filter by while a version is swapped).
 */
export function retrievalIndexStateMigration(schema: string): new () => MigrationInterface {
  return class RetrievalIndexState1765100000000 implements MigrationInterface {
    readonly name = 'RetrievalIndexState1765100000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`
        CREATE TABLE "${schema}"."embedded_documents" (
          tenant text NOT NULL,
          document_id text NOT NULL,
          version int NOT NULL,
          title text NOT NULL,
          tags jsonb NOT NULL,
          PRIMARY KEY (tenant, document_id)
        )`);
      // Vectors as little-endian bytes: dense float32 (what the index computes with), sparse indices uint32
      // and values float64, so the index rebuilt at boot ranks exactly as before the restart.
      await queryRunner.query(`
        CREATE TABLE "${schema}"."embedded_chunks" (
          tenant text NOT NULL,
          document_id text NOT NULL,
          ordinal int NOT NULL,
          chunk_id text NOT NULL,
          chunk_hash text NOT NULL,
          text text NOT NULL,
          heading_path jsonb NOT NULL,
          dense bytea NOT NULL,
          sparse_indices bytea NOT NULL,
          sparse_values bytea NOT NULL,
          PRIMARY KEY (tenant, document_id, ordinal),
          FOREIGN KEY (tenant, document_id)
            REFERENCES "${schema}"."embedded_documents" (tenant, document_id) ON DELETE CASCADE
        )`);
      await queryRunner.query(`
        CREATE TABLE "${schema}"."version_transitions" (
          tenant text NOT NULL,
          document_id text NOT NULL,
          state text NOT NULL CHECK (state IN ('switched', 'deleted')),
          version int,
          recorded_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant, document_id),
          CHECK ((state = 'switched') = (version IS NOT NULL))
        )`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE "${schema}"."version_transitions"`);
      await queryRunner.query(`DROP TABLE "${schema}"."embedded_chunks"`);
      await queryRunner.query(`DROP TABLE "${schema}"."embedded_documents"`);
    }
  };
}
