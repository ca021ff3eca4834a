import { loadConfig, serviceConfigSchema } from '@keel/config';
import { bootstrapService } from '@keel/observability';
import { AppModule, serviceName } from './app.module';

void bootstrapService({
  name: serviceName,
  config: () => loadConfig(serviceConfigSchema(3001)),
  module: (config) => AppModule.forRoot(config),
});
