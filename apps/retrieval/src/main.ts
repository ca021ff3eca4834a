import { loadConfig } from '@keel/config';
import { bootstrapService } from '@keel/observability';
import { retrievalConfigSchema } from '@keel/retrieval-feature';
import { AppModule, serviceName } from './app.module';

void bootstrapService({
  name: serviceName,
  config: () => loadConfig(retrievalConfigSchema),
  module: (config) => AppModule.forRoot(config),
});
