import { ReleasesModule } from '@keel/releases';
import { ServiceChassisModule } from '@keel/service-chassis';
import { workflowTemplates } from '@keel/workflow-engine';
import { WorkflowRuntimeModule, loadDefinitionFiles, loadPostgresStatements } from '@keel/workflow-runtime';
import { type DynamicModule, Module } from '@nestjs/common';
import { workflowMigrations } from './persistence/migrations';
import { type WorkflowServiceConfig } from './workflow.config';

export const serviceName = 'workflow';

/**
 * The workflow service: runs governed workflow instances — the only place side effects happen. With a
 * release tenant it runs governance's releases: templates from the release in force, files only seeding a
 * fresh install.
 */
@Module({})
export class AppModule {
  static forRoot(config: WorkflowServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({
          service: serviceName,
          migrations: workflowMigrations,
          config,
          // Its checkpoint statements were planned anew on every run under Postgres's own choice (ADR 0035).
          genericPlans: true,
          http: {
            access: config,
            rateLimit: { limit: config.WORKFLOW_RATE_LIMIT, windowMs: config.WORKFLOW_RATE_WINDOW_MS },
          },
        }),
        ReleasesModule.forRoot({ schema: workflowMigrations.schema, config }),
        WorkflowRuntimeModule.forRoot({
          schema: workflowMigrations.schema,
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
          // Checked at boot to outlast the consumed topics' retention, so it bounds every possible replay.
          tombstoneRetentionMs: config.PROCESSED_EVENTS_RETENTION_HOURS * 3_600_000,
          pruneIntervalMs: config.WORKFLOW_PRUNE_INTERVAL_MS,
          scheduleTenant: config.WORKFLOW_SCHEDULE_TENANT,
          source: `urn:keel:${serviceName}`,
        }),
      ],
    };
  }
}
