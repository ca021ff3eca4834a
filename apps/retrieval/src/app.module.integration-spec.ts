import { loadConfig, serviceConfigSchema } from '@keel/config';
import { serviceAppContract } from '@keel/testing';
import { AppModule } from './app.module';

serviceAppContract({
  service: 'retrieval',
  migrations: [
    'ServiceSchema1763900000000',
    'MessagingTables1764000000000',
    'MessagingDeliveryCounts1764200000000',
  ],
  module: (env) => AppModule.forRoot(loadConfig(serviceConfigSchema(0), env)),
});
