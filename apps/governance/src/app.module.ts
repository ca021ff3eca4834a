import { serviceSource } from '@keel/contracts';
import { type GovernanceConfig, GovernanceModule } from '@keel/governance-feature';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { governanceMigrations } from './persistence/migrations';

export const serviceName = 'governance';

/** The governance service keeps the registry, releases, the audit log and machine clients' API keys. */
@Module({})
export class AppModule {
  static forRoot(config: GovernanceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({ service: serviceName, migrations: governanceMigrations, config }),
        GovernanceModule.forRoot({
          schema: governanceMigrations.schema,
          config,
          source: serviceSource(serviceName),
        }),
      ],
    };
  }
}
