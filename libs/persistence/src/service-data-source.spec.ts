import { createServiceDataSource, serviceSchemaMigration } from '@keel/persistence';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

describe('createServiceDataSource', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/keel';

  it('confines the data source to the service schema and never synchronizes', () => {
    const options = createServiceDataSource({
      url,
      schema: 'workflow',
      migrations: [serviceSchemaMigration('workflow')],
    }).options as PostgresConnectionOptions;

    expect(options).toEqual(
      expect.objectContaining({
        schema: 'workflow',
        migrationsTableName: 'migrations',
        synchronize: false,
        migrationsRun: false,
        applicationName: 'workflow',
      }),
    );
    expect(options.extra).toEqual(expect.objectContaining({ options: '-c search_path=workflow,public' }));
  });

  it('runs a service that asks for them under generic plans, and no other', () => {
    const generic = createServiceDataSource({ url, schema: 'workflow', migrations: [], genericPlans: true });
    expect((generic.options as PostgresConnectionOptions).extra).toEqual(
      expect.objectContaining({
        options: '-c search_path=workflow,public -c plan_cache_mode=force_generic_plan',
      }),
    );
  });

  it.each(['Workflow', 'work-flow', 'x"; DROP SCHEMA public; --', ''])(
    'refuses %j as a schema name',
    (schema) => {
      expect(() => createServiceDataSource({ url, schema, migrations: [] })).toThrow(/invalid schema name/);
      expect(() => serviceSchemaMigration(schema)).toThrow(/invalid schema name/);
    },
  );
});
