import { nextScheduledStart } from '@keel/workflow-engine';
import type { DataSource } from 'typeorm';
import type { DefinitionRegistry } from '../persistence/definition.registry';
import type { WorkflowExecutor } from './workflow-executor';

interface DueSchedule {
  workflow_name: string;
  workflow_version: number;
  next_run_at: Date;
}

export interface CronSchedulerOptions {
  readonly dataSource: DataSource;
  readonly registry: DefinitionRegistry;
  readonly executor: WorkflowExecutor;
  readonly now: () => Date;
  readonly tenant: string;
}

/**
 * Starts instances of definitions that carry a cron `schedule`. The next run time is a row, so a run that
 * fell due while the service was down starts when it is back (once: missed runs are not replayed one by one).
 * The instance id is derived from the due time, so two schedulers never start the same run twice.
 */
export class CronScheduler {
  constructor(private readonly options: CronSchedulerOptions) {}

  /** Records the next run of every scheduled definition that has none yet. */
  async arm(): Promise<void> {
    const now = this.options.now();
    for (const definition of this.options.registry.all()) {
      const next = nextScheduledStart(definition, now);
      if (!next) continue;
      await this.options.dataSource.query(
        `INSERT INTO "workflow"."schedules" (workflow_name, workflow_version, next_run_at) VALUES ($1, $2, $3)
         ON CONFLICT (workflow_name, workflow_version) DO NOTHING`,
        [definition.name, definition.version, next],
      );
    }
  }

  async tick(): Promise<boolean> {
    return this.options.dataSource.transaction(async (manager) => {
      const [due] = await manager.query<DueSchedule[]>(
        `SELECT workflow_name, workflow_version, next_run_at FROM "workflow"."schedules"
         WHERE next_run_at <= $1 ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [this.options.now()],
      );
      if (!due) return false;
      const definition = await this.options.registry.resolve(
        manager,
        due.workflow_name,
        due.workflow_version,
      );
      const runAt = new Date(due.next_run_at);
      const instanceId = `${definition.name}@${definition.version}/cron/${runAt.toISOString()}`;
      await this.options.executor.start(manager, {
        instanceId,
        workflow: definition.name,
        version: definition.version,
        input: definition.schedule?.input ?? {},
        owner: { caseId: instanceId, tenant: this.options.tenant, correlationId: instanceId },
      });
      const next = nextScheduledStart(definition, this.options.now());
      if (next) {
        await manager.query(
          `UPDATE "workflow"."schedules" SET next_run_at = $3 WHERE workflow_name = $1 AND workflow_version = $2`,
          [due.workflow_name, due.workflow_version, next],
        );
      } else {
        await manager.query(
          `DELETE FROM "workflow"."schedules" WHERE workflow_name = $1 AND workflow_version = $2`,
          [due.workflow_name, due.workflow_version],
        );
      }
      return true;
    });
  }
}
