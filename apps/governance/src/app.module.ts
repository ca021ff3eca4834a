import { serviceSource } from '@keel/contracts';
import {
  type GovernanceConfig,
  GovernanceModule,
  type GovernanceQualityConfig,
  GovernanceQualityModule,
  governanceQualityConfigSchema,
  replayPromotionGate,
} from '@keel/governance-feature';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { governanceMigrations } from './persistence/migrations';

export const serviceName = 'governance';

/**
 * The service's settings: governance's own and release quality's. Quality's all have defaults, so a config
 * of governance's alone (as older tests build it) runs with the default bars.
 */
export type GovernanceServiceConfig = GovernanceConfig & Partial<GovernanceQualityConfig>;

/**
 * The governance service keeps the registry, releases, the audit log and machine clients' API keys, and
 * judges release quality (replay gate, shadow agreement, drift with rollback).
 */
@Module({})
export class AppModule {
  static forRoot(config: GovernanceServiceConfig): DynamicModule {
    const { schema } = governanceMigrations;
    const source = serviceSource(serviceName);
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({
          service: serviceName,
          migrations: governanceMigrations,
          config,
          http: {
            access: config,
            rateLimit: { limit: config.GOVERNANCE_RATE_LIMIT, windowMs: config.GOVERNANCE_RATE_WINDOW_MS },
          },
        }),
        GovernanceModule.forRoot({ schema, config, source, promotionGate: replayPromotionGate(schema) }),
        GovernanceQualityModule.forRoot({
          schema,
          config,
          quality: governanceQualityConfigSchema.parse(config),
          source,
        }),
      ],
    };
  }
}
