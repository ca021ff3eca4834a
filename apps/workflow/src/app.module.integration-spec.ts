import { serviceAppContract } from '@keel/testing';
import { AppModule } from './app.module';
import { loadWorkflowServiceConfig } from './workflow.config';

serviceAppContract({
  service: 'workflow',
  migrations: [
    'ServiceSchema1763900000000',
    'MessagingTables1764000000000',
    'WorkflowTables1764000000100',
    'WorkflowTaskRole1764000000200',
    'WorkflowTaskTimeouts1764000000300',
    'WorkflowInstanceTombstones1764000000500',
    'MessagingDeliveryCounts1764200000000',
    'WorkflowInstanceRelease1764300000000',
    'ReleasesTables1764900000000',
    'WorkflowTaskTraceContext1765000000000',
    'WorkflowInstancesTenantIndex1765100000000',
  ],
  genericPlans: true,
  module: (env) =>
    AppModule.forRoot(
      loadWorkflowServiceConfig({
        ...env,
        ACCESS_SHARED_KEY: 'contract-test-shared-key-of-32-chars!',
      }),
    ),
});
