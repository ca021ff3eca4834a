import type { MigrationInterface, QueryRunner } from 'typeorm';
import { assertSchemaName } from './schema-name';
import type { MigrationClass } from './service-data-source';

/**
 * A service's first migration: its schema, marked with its owner. Timestamped before every other Keel
 * migration. `down` only removes the mark — the schema holds TypeORM's migration ledger, so it outlives
 * its migrations.
 */
export function serviceSchemaMigration(schema: string, timestamp = 1763900000000): MigrationClass {
  assertSchemaName(schema);
  const name = `ServiceSchema${timestamp}`;
  return class implements MigrationInterface {
    readonly name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await queryRunner.query(
        `COMMENT ON SCHEMA "${schema}" IS 'Owned by the ${schema} service: no other service reads or writes it'`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`COMMENT ON SCHEMA "${schema}" IS NULL`);
    }
  };
}
