import { type RetrievalConfig, RetrievalFeatureModule } from '@keel/retrieval-feature';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { join } from 'node:path';
import { retrievalMigrations } from './persistence/migrations';

export const serviceName = 'retrieval';

/** The retrieval service indexes knowledge documents and answers context queries. */
@Module({})
export class AppModule {
  static forRoot(config: RetrievalConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({
          service: serviceName,
          migrations: retrievalMigrations,
          config,
          http: {
            access: config,
            rateLimit: { limit: config.RETRIEVAL_RATE_LIMIT, windowMs: config.RETRIEVAL_RATE_WINDOW_MS },
          },
        }),
        RetrievalFeatureModule.forRoot({
          config,
          schema: retrievalMigrations.schema,
          repositoryRoot: join(__dirname, '..', '..', '..'),
        }),
      ],
    };
  }
}
