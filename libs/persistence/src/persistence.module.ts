import { provideReadinessCheck } from '@keel/observability';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dataSourceReadinessCheck } from './data-source.readiness';
import { createServiceDataSource, type ServiceDataSourceOptions } from './service-data-source';
import { runServiceMigrations } from './service-migrations';

export interface PersistenceModuleOptions extends ServiceDataSourceOptions {
  /** Apply pending migrations before the application starts (config `DB_RUN_MIGRATIONS`). */
  readonly runMigrations: boolean;
}

const logger = new Logger('Persistence');

async function openDataSource(options: PersistenceModuleOptions): Promise<DataSource> {
  const dataSource = createServiceDataSource(options);
  await dataSource.initialize();
  if (!options.runMigrations) return dataSource;
  try {
    const applied = await runServiceMigrations(dataSource);
    logger.log(applied.length ? 'applied migrations' : 'schema up to date', {
      schema: options.schema,
      applied,
    });
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

// Closes the pool in the last shutdown phase, after consumers stopped in earlier ones.
@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The service's TypeORM `DataSource` (inject it by its class), confined to the service's schema, migrated
 * at boot when asked, closed at shutdown, and checked by `/health/ready`. Global: one per application.
 */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceModuleOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        { provide: DataSource, useFactory: () => openDataSource(options) },
        DataSourceCloser,
        provideReadinessCheck('postgres', { inject: [DataSource], useFactory: dataSourceReadinessCheck }),
      ],
      exports: [DataSource],
    };
  }
}
