import type { ServiceConfig } from '@keel/config';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { ingestionMigrations } from './persistence/migrations';

export const serviceName = 'ingestion';

/** The ingestion service validates and normalizes source events into case events and documents to index. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({ service: serviceName, migrations: ingestionMigrations, config }),
      ],
    };
  }
}
