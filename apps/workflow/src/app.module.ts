import { MessagingModule } from '@keel/messaging';
import { HealthModule, MetricsModule } from '@keel/observability';
import { PersistenceModule } from '@keel/persistence';
import { workflowTemplates } from '@keel/workflow-engine';
import {
  type WorkflowConfig,
  WorkflowRuntimeModule,
  loadDefinitionFiles,
  loadPostgresStatements,
} from '@keel/workflow-runtime';
import { type DynamicModule, Module } from '@nestjs/common';
import { workflowMigrations } from './persistence/migrations';

export const serviceName = 'workflow';

/** The workflow service: runs governed workflow instances — the only place side effects happen. */
@Module({})
export class AppModule {
  static forRoot(config: WorkflowConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MetricsModule.forRoot({ service: serviceName }),
        HealthModule.forRoot(),
        PersistenceModule.forRoot({
          ...workflowMigrations,
          url: config.DATABASE_URL,
          runMigrations: config.DB_RUN_MIGRATIONS,
          applicationName: serviceName,
        }),
        MessagingModule.forRoot({
          service: serviceName,
          schema: workflowMigrations.schema,
          brokers: config.KAFKA_BROKERS,
          topicNamespace: config.KEEL_TOPIC_NAMESPACE,
          outboxPollMs: config.OUTBOX_POLL_MS,
          retry: {
            maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
            initialDelayMs: config.CONSUMER_RETRY_INITIAL_MS,
            multiplier: 2,
            maxDelayMs: 30_000,
          },
          sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        }),
        WorkflowRuntimeModule.forRoot({
          definitions: [
            ...workflowTemplates,
            ...(config.WORKFLOW_DEFINITIONS_DIR ? loadDefinitionFiles(config.WORKFLOW_DEFINITIONS_DIR) : []),
          ],
          httpServices: config.WORKFLOW_HTTP_SERVICES,
          postgresStatements: config.WORKFLOW_POSTGRES_STATEMENTS_FILE
            ? loadPostgresStatements(config.WORKFLOW_POSTGRES_STATEMENTS_FILE)
            : {},
          taskConcurrency: config.WORKFLOW_TASK_CONCURRENCY,
          taskLeaseGraceMs: config.WORKFLOW_TASK_LEASE_GRACE_MS,
          retentionMs: config.WORKFLOW_RETENTION_HOURS * 3_600_000,
          pruneIntervalMs: config.WORKFLOW_PRUNE_INTERVAL_MS,
          scheduleTenant: config.WORKFLOW_SCHEDULE_TENANT,
          source: `urn:keel:${serviceName}`,
        }),
      ],
    };
  }
}
