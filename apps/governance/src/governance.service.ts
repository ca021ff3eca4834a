import { loadConfig } from '@keel/config';
import {
  configureGovernanceHttp,
  type GovernanceConfig,
  governanceConfigSchema,
} from '@keel/governance-feature';
import { kafkaEventTransport } from '@keel/messaging';
import type { BootstrapOptions } from '@keel/observability';
import { AppModule, serviceName } from './app.module';

/** How the governance service starts: the process (`main.ts`) and the tests boot it the same way. */
export const governanceService: BootstrapOptions<GovernanceConfig> = {
  name: serviceName,
  config: () => loadConfig(governanceConfigSchema),
  module: (config) => AppModule.forRoot(config),
  configure: (app) => configureGovernanceHttp(app),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
};
