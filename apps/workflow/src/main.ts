import { loadConfig } from '@keel/config';
import { kafkaEventTransport } from '@keel/messaging';
import { bootstrapService } from '@keel/observability';
import { workflowConfigSchema } from '@keel/workflow-runtime';
import { AppModule, serviceName } from './app.module';

void bootstrapService({
  name: serviceName,
  config: () => loadConfig(workflowConfigSchema),
  module: (config) => AppModule.forRoot(config),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
});
