export { WorkflowInstancesController } from './api/workflow-instances.controller';
export {
  type Connector,
  type ConnectorCallContext,
  type ConnectorOutputs,
  type ConnectorResult,
} from './connectors/connector';
export { HttpConnector } from './connectors/http.connector';
export { KafkaConnector } from './connectors/kafka.connector';
export { PostgresConnector, workflowTaskRole } from './connectors/postgres.connector';
export { WorkflowInboxController } from './consumers/workflow-inbox.controller';
export { RetentionPruner } from './execution/retention-pruner';
export { TaskWorker } from './execution/task-worker';
export { TimerPoller } from './execution/timer-poller';
export { WorkflowExecutor, type StartRequest, type TransitionOutcome } from './execution/workflow-executor';
export { loadDefinitionFiles } from './persistence/definition-files';
export { loadPostgresStatements, type PostgresStatement } from './persistence/postgres-statements-file';
export {
  DefinitionRegistry,
  type ReleasedTemplates,
  definitionHash,
  releasedDefinitions,
} from './persistence/definition.registry';
export {
  DataSourceTransactions,
  postgresWorkflowRepositories,
} from './persistence/postgres-workflow-repositories';
export type * from './persistence/workflow-repositories';
export { WorkflowInstanceTombstones1764000000500 } from './persistence/instance-tombstones.migration';
export { WorkflowInstanceRelease1764300000000 } from './persistence/instance-release.migration';
export { WorkflowTaskTraceContext1765000000000 } from './persistence/task-trace-context.migration';
export { WorkflowInstancesTenantIndex1765100000000 } from './persistence/instances-tenant-index.migration';
export { WorkflowTables1764000000100 } from './persistence/workflow-tables.migration';
export { WorkflowTaskRole1764000000200 } from './persistence/workflow-task-role.migration';
export { WorkflowTaskTimeouts1764000000300 } from './persistence/workflow-task-timeouts.migration';
export { workflowConfigSchema, type WorkflowConfig } from './workflow-runtime.config';
export {
  WorkflowRuntimeError,
  type WorkflowRuntimeErrorCode,
  workflowRuntimeErrors,
} from './workflow-runtime.error';
export {
  WorkflowRuntimeModule,
  WorkflowWorkers,
  type WorkflowRuntimeOptions,
} from './workflow-runtime.module';
