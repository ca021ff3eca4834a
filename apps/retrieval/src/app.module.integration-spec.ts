/** @jest-environment ./libs/retrieval/data-access/src/onnx-runtime.test-environment.js */
import { loadConfig } from '@keel/config';
import { retrievalConfigSchema } from '@keel/retrieval-feature';
import { serviceAppContract } from '@keel/testing';
import { AppModule } from './app.module';

serviceAppContract({
  service: 'retrieval',
  migrations: [
    'ServiceSchema1763900000000',
    'MessagingTables1764000000000',
    'MessagingDeliveryCounts1764200000000',
    'DocumentRegistry1764300000000',
    'RetrievalIndexState1765100000000',
  ],
  module: (env) =>
    AppModule.forRoot(
      loadConfig(retrievalConfigSchema, {
        ...env,
        ACCESS_SHARED_KEY: 'contract-test-shared-key-of-32-chars!',
      }),
    ),
});
