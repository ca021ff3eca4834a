import { kafkaEventTransport } from '@keel/messaging';
import { bootstrapService } from '@keel/observability';
import { AppModule, serviceName } from './app.module';
import { loadWorkflowServiceConfig } from './workflow.config';

void bootstrapService({
  name: serviceName,
  config: () => loadWorkflowServiceConfig(),
  module: (config) => AppModule.forRoot(config),
  description: 'Workflow definitions, instances, their history and operator commands',
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
});
