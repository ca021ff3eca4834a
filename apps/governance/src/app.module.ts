import type { ServiceConfig } from '@keel/config';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { governanceMigrations } from './persistence/migrations';

export const serviceName = 'governance';

/** The governance service keeps the registry, approvals, audit log and releases of governed artifacts. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({ service: serviceName, migrations: governanceMigrations, config }),
      ],
    };
  }
}
