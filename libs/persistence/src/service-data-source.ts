import { DataSource, type MigrationInterface } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { preparingClient } from './preparing-client';
import { assertSchemaName } from './schema-name';

export type MigrationClass = new () => MigrationInterface;

/** A service's Postgres schema and its migrations, oldest first; each app exports one. */
export interface ServiceMigrations {
  readonly schema: string;
  readonly migrations: readonly MigrationClass[];
}

export interface ServiceDataSourceOptions extends ServiceMigrations {
  readonly url: string;
  readonly entities?: PostgresConnectionOptions['entities'];
  /** TypeORM's record of applied migrations, kept inside the service's schema. */
  readonly migrationsTableName?: string;
  readonly poolSize?: number;
  /** Shown in pg_stat_activity, so a connection can be traced to its service. */
  readonly applicationName?: string;
  /**
   * Every parameterised statement runs under one generic plan (`plan_cache_mode = force_generic_plan`), made on
   * its first run and again as `preparingClient` prepares it afresh (ADR 0035). Only for a service whose
   * statements were checked for it: a plan that needs a parameter's value (an optional filter, a range
   * bounded by a parameter) gets none.
   */
  readonly genericPlans?: boolean;
}

/**
 * A TypeORM data source confined to one service's schema: entities and the migration ledger live in it,
 * and the connection's search_path starts with it, so raw SQL resolves unqualified names there too.
 * Never synchronizes; the schema only changes through migrations (tests included).
 */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  assertSchemaName(options.schema);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: [...options.migrations],
    migrationsTableName: options.migrationsTableName ?? 'migrations',
    migrationsRun: false,
    synchronize: false,
    applicationName: options.applicationName ?? options.schema,
    poolSize: options.poolSize ?? 10,
    extra: {
      // A connection prepares a statement with parameters on its second run of it (see preparingClient).
      Client: preparingClient(),
      // Fail a connection attempt fast, so readiness reports the database down instead of hanging.
      connectionTimeoutMillis: 5000,
      options: `-c search_path=${options.schema},public${options.genericPlans ? ' -c plan_cache_mode=force_generic_plan' : ''}`,
    },
  });
}
