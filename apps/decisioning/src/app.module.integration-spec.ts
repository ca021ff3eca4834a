import { loadConfig } from '@keel/config';
import { decisioningConfigSchema } from '@keel/decisioning-feature';
import { serviceAppContract } from '@keel/testing';
import { AppModule } from './app.module';

serviceAppContract({
  service: 'decisioning',
  migrations: [
    'ServiceSchema1763900000000',
    'MessagingTables1764000000000',
    'DecisioningTables1764100000100',
    'MessagingDeliveryCounts1764200000000',
    'DecisioningDecisionQueue1764400000100',
  ],
  module: (env) => AppModule.forRoot(loadConfig(decisioningConfigSchema, env)),
});
