import { nextScheduledStart } from '@keel/workflow-engine';
import type { DefinitionRegistry } from '../persistence/definition.registry';
import type { ScheduleRepository, Transactions } from '../persistence/workflow-repositories';
import type { WorkflowExecutor } from './workflow-executor';

export interface CronSchedulerOptions {
  readonly transactions: Transactions;
  readonly schedules: ScheduleRepository;
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
    const { transactions, schedules } = this.options;
    const now = this.options.now();
    for (const definition of this.options.registry.all()) {
      const next = nextScheduledStart(definition, now);
      if (next) await schedules.arm(transactions.outside, definition.name, definition.version, next);
    }
  }

  async tick(): Promise<boolean> {
    const { transactions, schedules } = this.options;
    return transactions.run(async (manager) => {
      const due = await schedules.lockDue(manager, this.options.now());
      if (!due) return false;
      const definition = await this.options.registry.resolve(manager, due.workflow, due.version);
      const instanceId = `${definition.name}@${definition.version}/cron/${due.nextRunAt.toISOString()}`;
      await this.options.executor.start(manager, {
        instanceId,
        workflow: definition.name,
        version: definition.version,
        input: definition.schedule?.input ?? {},
        owner: { caseId: instanceId, tenant: this.options.tenant, correlationId: instanceId },
      });
      await schedules.advance(
        manager,
        due.workflow,
        due.version,
        nextScheduledStart(definition, this.options.now()),
      );
      return true;
    });
  }
}
