import { loadConfig } from '@keel/config';
import { configureGovernanceHttp, governanceConfigSchema } from '@keel/governance-feature';
import { kafkaEventTransport } from '@keel/messaging';
import { bootstrapService } from '@keel/observability';
import { AppModule, serviceName } from './app.module';

void bootstrapService({
  name: serviceName,
  config: () => loadConfig(governanceConfigSchema),
  module: (config) => AppModule.forRoot(config),
  configure: (app) => configureGovernanceHttp(app),
  microservices: (app) => [{ strategy: kafkaEventTransport(app) }],
});
