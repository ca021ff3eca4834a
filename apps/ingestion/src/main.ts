import { loadConfig } from '@keel/config';
import { configureIngestionHttp, ingestionConfigSchema } from '@keel/ingestion-feature';
import { kafkaEventTransport } from '@keel/messaging';
import { bootstrapService } from '@keel/observability';
import { AppModule, serviceName } from './app.module';

void bootstrapService({
  name: serviceName,
  config: () => loadConfig(ingestionConfigSchema),
  module: (config) => AppModule.forRoot(config),
  description: 'Source events and knowledge documents into Keel',
  configure: (app, config) => configureIngestionHttp(app, { maxBodyBytes: config.INGESTION_MAX_BODY_BYTES }),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
});
