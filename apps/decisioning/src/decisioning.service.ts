import { loadConfig } from '@keel/config';
import { type DecisioningConfig, decisioningConfigSchema } from '@keel/decisioning-feature';
import { kafkaEventTransport } from '@keel/messaging';
import type { BootstrapOptions } from '@keel/observability';
import { AppModule, serviceName } from './app.module';

/** How the decisioning service starts: the process (`main.ts`) and the tests boot it the same way. */
export const decisioningService: BootstrapOptions<DecisioningConfig> = {
  name: serviceName,
  config: () => loadConfig(decisioningConfigSchema),
  module: (config) => AppModule.forRoot(config),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
};
