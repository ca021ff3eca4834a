import { loadConfig } from '@keel/config';
import { kafkaEventTransport } from '@keel/messaging';
import type { BootstrapOptions } from '@keel/observability';
import { type RetrievalConfig, retrievalConfigSchema } from '@keel/retrieval-feature';
import { AppModule, serviceName } from './app.module';

/** How the retrieval service starts: the process (`main.ts`) and the tests boot it the same way. */
export const retrievalService: BootstrapOptions<RetrievalConfig> = {
  name: serviceName,
  config: () => loadConfig(retrievalConfigSchema),
  module: (config) => AppModule.forRoot(config),
  description: 'Context queries over the indexed knowledge, and document deletion',
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
};
