import { type RetrievalConfig, RetrievalFeatureModule } from '@keel/retrieval-feature';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { retrievalMigrations } from './persistence/migrations';

export const serviceName = 'retrieval';

/**
 * The checkout the service runs from (its `scripts/models` and `.models` live there): the nearest folder
 * above this file holding `package.json`, so the sources and the compiled `dist/` find the same one.
 */
function repositoryRoot(from = __dirname): string {
  if (existsSync(join(from, 'package.json'))) return from;
  const parent = dirname(from);
  if (parent === from) throw new Error(`no package.json above ${__dirname}: where is the checkout?`);
  return repositoryRoot(parent);
}

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
          repositoryRoot: repositoryRoot(),
        }),
      ],
    };
  }
}
