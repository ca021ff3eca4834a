import { serviceSource } from '@keel/contracts';
import { type DecisioningConfig, DecisioningModule } from '@keel/decisioning-feature';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { decisioningMigrations } from './persistence/migrations';

export const serviceName = 'decisioning';

/** The decisioning service hosts the agent, which turns case events into governed decision records. */
@Module({})
export class AppModule {
  static forRoot(config: DecisioningConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({ service: serviceName, migrations: decisioningMigrations, config }),
        DecisioningModule.forRoot({
          config,
          schema: decisioningMigrations.schema,
          source: serviceSource(serviceName),
        }),
      ],
    };
  }
}
