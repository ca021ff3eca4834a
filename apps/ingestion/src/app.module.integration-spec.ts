import { loadConfig } from '@keel/config';
import { ingestionConfigSchema } from '@keel/ingestion-feature';
import { serviceAppContract } from '@keel/testing';
import { AppModule } from './app.module';

serviceAppContract({
  service: 'ingestion',
  migrations: [
    'ServiceSchema1763900000000',
    'MessagingTables1764000000000',
    'IngestionTables1764100000000',
    'MessagingDeliveryCounts1764200000000',
    'IngestionSourceSchemas1764300000000',
  ],
  module: (env) =>
    AppModule.forRoot(
      loadConfig(ingestionConfigSchema, {
        ...env,
        ACCESS_SHARED_KEY: 'contract-test-shared-key-of-32-chars!',
      }),
    ),
});
