import type { DataSource, MigrationInterface } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { assertSchemaName } from './schema-name';

export interface MigrationStatus {
  readonly name: string;
  readonly applied: boolean;
}

/**
 * Applies the pending migrations of the data source's schema, each in its own transaction, and returns
 * their names. Creates the schema first: TypeORM keeps its migration ledger inside it.
 */
export async function runServiceMigrations(dataSource: DataSource): Promise<string[]> {
  return withMigrationLock(dataSource, async (schema) => {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  });
}

/** Reverts the most recently applied migration; returns its name, or undefined when none is applied. */
export async function revertLastServiceMigration(dataSource: DataSource): Promise<string | undefined> {
  return withMigrationLock(dataSource, async () => {
    const applied = await appliedMigrationNames(dataSource);
    const last = applied.at(-1);
    if (last !== undefined) await dataSource.undoLastMigration({ transaction: 'each' });
    return last;
  });
}

/** Every migration the service knows, in order, and whether it is applied. Changes nothing. */
export async function listServiceMigrations(dataSource: DataSource): Promise<MigrationStatus[]> {
  const applied = new Set(await appliedMigrationNames(dataSource));
  return dataSource.migrations.map((migration) => {
    const name = migrationName(migration);
    return { name, applied: applied.has(name) };
  });
}

function migrationName(migration: MigrationInterface): string {
  return migration.name ?? migration.constructor.name;
}

function ledgerOf(dataSource: DataSource): { schema: string; ledger: string } {
  const options = dataSource.options as PostgresConnectionOptions;
  const schema = options.schema ?? 'public';
  assertSchemaName(schema);
  return { schema, ledger: `"${schema}"."${options.migrationsTableName ?? 'migrations'}"` };
}

async function appliedMigrationNames(dataSource: DataSource): Promise<string[]> {
  const { ledger } = ledgerOf(dataSource);
  const [{ exists }] = await dataSource.query<[{ exists: boolean }]>(
    `SELECT to_regclass($1) IS NOT NULL AS exists`,
    [ledger],
  );
  if (!exists) return [];
  const rows = await dataSource.query<Array<{ name: string }>>(`SELECT name FROM ${ledger} ORDER BY id`);
  return rows.map((row) => row.name);
}

// Replicas booting together would otherwise race to create the schema and apply the same migration; a
// session-level advisory lock per schema lets one apply while the others wait, then find nothing pending.
async function withMigrationLock<T>(
  dataSource: DataSource,
  work: (schema: string) => Promise<T>,
): Promise<T> {
  const { schema } = ledgerOf(dataSource);
  const lockKey = `keel.migrations.${schema}`;
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      return await work(schema);
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
  } finally {
    await lock.release();
  }
}
