import type { ServiceConfig } from '@keel/config';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { retrievalMigrations } from './persistence/migrations';

export const serviceName = 'retrieval';

/** The retrieval service indexes knowledge documents and answers context queries. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({ service: serviceName, migrations: retrievalMigrations, config }),
      ],
    };
  }
}
