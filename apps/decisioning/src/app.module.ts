import { serviceSource } from '@keel/contracts';
import { type DecisioningConfig, DecisioningModule } from '@keel/decisioning-feature';
import { type ReleasesConfig, ReleasesModule, releasesConfigSchema } from '@keel/releases';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { type DecisioningServiceConfig } from './decisioning.config';
import { decisioningMigrations } from './persistence/migrations';

export const serviceName = 'decisioning';

/**
 * The decisioning service hosts the agent, which turns case events into governed decision records. With a
 * release tenant it runs governance's releases (agent policy, prompt, model, guardrail policy; a shadow release
 * beside production); the bundled files only seed a fresh install.
 */
@Module({})
export class AppModule {
  static forRoot(
    config: DecisioningServiceConfig | (DecisioningConfig & Partial<ReleasesConfig>),
  ): DynamicModule {
    // The releases settings with their defaults where a caller's config predates them (then: no releases).
    const releases = releasesConfigSchema.parse(config);
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({ service: serviceName, migrations: decisioningMigrations, config }),
        ReleasesModule.forRoot({ schema: decisioningMigrations.schema, config: releases }),
        DecisioningModule.forRoot({
          config,
          schema: decisioningMigrations.schema,
          source: serviceSource(serviceName),
        }),
      ],
    };
  }
}
