import { kafkaEventTransport } from '@keel/messaging';
import type { BootstrapOptions } from '@keel/observability';
import { AppModule, serviceName } from './app.module';
import { type WorkflowServiceConfig, loadWorkflowServiceConfig } from './workflow.config';

/** How the workflow service starts: the process (`main.ts`) and the tests boot it the same way. */
export const workflowService: BootstrapOptions<WorkflowServiceConfig> = {
  name: serviceName,
  config: () => loadWorkflowServiceConfig(),
  module: (config) => AppModule.forRoot(config),
  description: 'Workflow definitions, instances, their history and operator commands',
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
};
