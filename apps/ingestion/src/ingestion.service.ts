import { loadConfig } from '@keel/config';
import { type IngestionConfig, configureIngestionHttp, ingestionConfigSchema } from '@keel/ingestion-feature';
import { kafkaEventTransport } from '@keel/messaging';
import type { BootstrapOptions } from '@keel/observability';
import { AppModule, serviceName } from './app.module';

/** How the ingestion service starts: the process (`main.ts`) and the tests boot it the same way. */
export const ingestionService: BootstrapOptions<IngestionConfig> = {
  name: serviceName,
  config: () => loadConfig(ingestionConfigSchema),
  module: (config) => AppModule.forRoot(config),
  description: 'Source events and knowledge documents into Keel',
  configure: (app, config) => configureIngestionHttp(app, { maxBodyBytes: config.INGESTION_MAX_BODY_BYTES }),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
};
