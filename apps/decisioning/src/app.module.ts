import type { ServiceConfig } from '@keel/config';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { decisioningMigrations } from './persistence/migrations';

export const serviceName = 'decisioning';

/** The decisioning service hosts the agent, which turns case events into governed decision records. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({ service: serviceName, migrations: decisioningMigrations, config }),
      ],
    };
  }
}
