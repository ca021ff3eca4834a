import { loadConfig } from '@keel/config';
import { kafkaEventTransport } from '@keel/messaging';
import { bootstrapService } from '@keel/observability';
import { workflowConfigSchema } from '@keel/workflow-runtime';
import { AppModule, serviceName } from './app.module';

void bootstrapService({
  name: serviceName,
  config: () => loadConfig(workflowConfigSchema),
  module: (config) => AppModule.forRoot(config),
  description: 'Workflow definitions, instances, their history and operator commands',
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
});
