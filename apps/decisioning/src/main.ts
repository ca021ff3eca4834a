import { loadConfig } from '@keel/config';
import { decisioningConfigSchema } from '@keel/decisioning-feature';
import { kafkaEventTransport } from '@keel/messaging';
import { bootstrapService } from '@keel/observability';
import { AppModule, serviceName } from './app.module';

void bootstrapService({
  name: serviceName,
  config: () => loadConfig(decisioningConfigSchema),
  module: (config) => AppModule.forRoot(config),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
});
