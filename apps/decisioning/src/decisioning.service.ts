import { kafkaEventTransport } from '@keel/messaging';
import type { BootstrapOptions } from '@keel/observability';
import { AppModule, serviceName } from './app.module';
import { type DecisioningServiceConfig, loadDecisioningServiceConfig } from './decisioning.config';

/** How the decisioning service starts: the process (`main.ts`) and the tests boot it the same way. */
export const decisioningService: BootstrapOptions<DecisioningServiceConfig> = {
  name: serviceName,
  config: () => loadDecisioningServiceConfig(),
  module: (config) => AppModule.forRoot(config),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
};
