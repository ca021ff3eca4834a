import { messagingDeliveryCountsMigration, messagingTablesMigration } from '@keel/messaging';
import { type ServiceMigrations, serviceSchemaMigration } from '@keel/persistence';
import { releasesTablesMigration } from '@keel/releases';
import {
  WorkflowInstanceRelease1764300000000,
  WorkflowInstanceTombstones1764000000500,
  WorkflowInstancesTenantIndex1765100000000,
  WorkflowTables1764000000100,
  WorkflowTaskRole1764000000200,
  WorkflowTaskTimeouts1764000000300,
  WorkflowTaskTraceContext1765000000000,
} from '@keel/workflow-runtime';

/** The workflow service's schema and its migrations, oldest first: run at boot and by `npm run migrate`. */
export const workflowMigrations: ServiceMigrations = {
  schema: 'workflow',
  migrations: [
    serviceSchemaMigration('workflow'),
    messagingTablesMigration('workflow'),
    WorkflowTables1764000000100,
    WorkflowTaskRole1764000000200,
    WorkflowTaskTimeouts1764000000300,
    WorkflowInstanceTombstones1764000000500,
    messagingDeliveryCountsMigration('workflow'),
    WorkflowInstanceRelease1764300000000,
    releasesTablesMigration('workflow'),
    WorkflowTaskTraceContext1765000000000,
    WorkflowInstancesTenantIndex1765100000000,
  ],
};
