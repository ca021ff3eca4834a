import { serviceAppContract } from '@keel/testing';
import { AppModule } from './app.module';
import { loadDecisioningServiceConfig } from './decisioning.config';

serviceAppContract({
  service: 'decisioning',
  migrations: [
    'ServiceSchema1763900000000',
    'MessagingTables1764000000000',
    'DecisioningTables1764100000100',
    'MessagingDeliveryCounts1764200000000',
    'DecisioningDecisionQueue1764400000100',
    'ReleasesTables1764900000000',
  ],
  module: (env) => AppModule.forRoot(loadDecisioningServiceConfig(env)),
});
