import { HealthModule, type ReadinessReport } from '@keel/observability';
import {
  createServiceDataSource,
  dataSourceReadinessCheck,
  listServiceMigrations,
  PersistenceModule,
  revertLastServiceMigration,
  runServiceMigrations,
  serviceSchemaMigration,
} from '@keel/persistence';
import { testDatabaseUrl, uniqueName } from '@keel/testing';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';

// A later migration written like a service's: unqualified names, resolved through the search_path.
class CreateNotes1764100000000 implements MigrationInterface {
  readonly name = 'CreateNotes1764100000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE notes');
  }
}

function serviceDataSource(schema: string): DataSource {
  return createServiceDataSource({
    url: testDatabaseUrl,
    schema,
    migrations: [serviceSchemaMigration(schema), CreateNotes1764100000000],
  });
}

async function tablesOf(dataSource: DataSource, schema: string): Promise<string[]> {
  const rows = await dataSource.query<Array<{ table_name: string }>>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema],
  );
  return rows.map((row) => row.table_name);
}

describe('service data source', () => {
  let schema: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    schema = uniqueName('persistence');
    dataSource = serviceDataSource(schema);
    await dataSource.initialize();
  });

  afterEach(async () => {
    if (!dataSource.isInitialized) await dataSource.initialize();
    await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await dataSource.destroy();
  });

  it('creates its schema by migration and keeps the ledger and every table inside it', async () => {
    expect(await runServiceMigrations(dataSource)).toEqual([
      'ServiceSchema1763900000000',
      'CreateNotes1764100000000',
    ]);

    expect(await tablesOf(dataSource, schema)).toEqual(['migrations', 'notes']);
    const [{ owner }] = await dataSource.query<[{ owner: string }]>(
      'SELECT obj_description(oid, $2) AS owner FROM pg_namespace WHERE nspname = $1',
      [schema, 'pg_namespace'],
    );
    expect(owner).toContain(`Owned by the ${schema} service`);
    expect(dataSource.options.synchronize).toBe(false);
  });

  it('applies nothing twice, even when replicas migrate at the same moment', async () => {
    const replica = serviceDataSource(schema);
    await replica.initialize();
    try {
      const applied = await Promise.all([runServiceMigrations(dataSource), runServiceMigrations(replica)]);

      expect(applied.flat().sort()).toEqual(['CreateNotes1764100000000', 'ServiceSchema1763900000000']);
      expect(await runServiceMigrations(dataSource)).toEqual([]);
    } finally {
      await replica.destroy();
    }
  });

  it('shows and reverts migrations one at a time, newest first', async () => {
    expect(await listServiceMigrations(dataSource)).toEqual([
      { name: 'ServiceSchema1763900000000', applied: false },
      { name: 'CreateNotes1764100000000', applied: false },
    ]);
    await runServiceMigrations(dataSource);

    expect(await revertLastServiceMigration(dataSource)).toBe('CreateNotes1764100000000');

    expect(await listServiceMigrations(dataSource)).toEqual([
      { name: 'ServiceSchema1763900000000', applied: true },
      { name: 'CreateNotes1764100000000', applied: false },
    ]);
    expect(await tablesOf(dataSource, schema)).toEqual(['migrations']);
  });

  it('is ready while the database answers, and not once the pool is closed', async () => {
    const check = dataSourceReadinessCheck(dataSource);
    await expect(check.check()).resolves.toBeUndefined();

    await dataSource.destroy();

    await expect(check.check()).rejects.toThrow();
  });
});

describe('PersistenceModule', () => {
  it('migrates at boot, registers its readiness check and closes the pool at shutdown', async () => {
    const schema = uniqueName('persistence');
    @Module({
      imports: [
        HealthModule.forRoot(),
        PersistenceModule.forRoot({
          url: testDatabaseUrl,
          schema,
          migrations: [serviceSchemaMigration(schema), CreateNotes1764100000000],
          runMigrations: true,
        }),
      ],
    })
    class TestAppModule {}
    const app = await NestFactory.create(TestAppModule, { logger: false });
    const dataSource = app.get(DataSource);
    try {
      await app.listen(0, '127.0.0.1');

      expect(await tablesOf(dataSource, schema)).toEqual(['migrations', 'notes']);
      const ready = (await (await fetch(`${await app.getUrl()}/health/ready`)).json()) as ReadinessReport;
      expect(ready.checks).toEqual([expect.objectContaining({ name: 'postgres', status: 'up' })]);
    } finally {
      await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await app.close();
    }
    expect(dataSource.isInitialized).toBe(false);
  });
});
