import type { WorkflowInput } from '@keel/workflow-engine';
import type { EntityManager } from 'typeorm';
import type { DueWork, WorkflowRepositories, Transactions } from '../persistence/workflow-repositories';
import type { WorkflowExecutor } from './workflow-executor';

export interface TimerPollerOptions {
  readonly transactions: Transactions;
  readonly repositories: Pick<WorkflowRepositories, 'dueWork' | 'tasks' | 'timers'>;
  readonly executor: WorkflowExecutor;
  readonly now: () => Date;
  readonly batchSize?: number;
}

/**
 * Fires due timers and times out overdue task attempts (a queued one past its schedule-to-start, a running
 * one whose lease ran out). Both are rows, so they survive restarts: what fell due while the service was down
 * fires at the first poll after it is back. Each firing is one transaction that locks the instance first, then
 * marks the row fired (or timed out) — only if it still is due — and applies the input, so it fires once and
 * takes locks in the order every other path does (ADR 0005).
 */
export class TimerPoller {
  private readonly batchSize: number;

  constructor(private readonly options: TimerPollerOptions) {
    this.batchSize = options.batchSize ?? 100;
  }

  /**
   * Fires up to one batch of due timers and overdue attempts; true when a batch was full. One whose firing
   * fails (its instance's definition version is not stored yet, say) stays due for the next tick, and so does
   * the rest of its instance's, while the others fire; the first such failure is then reported.
   */
  async tick(): Promise<boolean> {
    const { transactions, repositories, executor } = this.options;
    const due = await repositories.dueWork.due(transactions.outside, this.options.now(), this.batchSize);
    const failedInstances = new Set<string>();
    let firstFailure: unknown;
    for (const item of due) {
      if (failedInstances.has(item.instanceId)) continue;
      try {
        await transactions.run((manager) =>
          executor.apply(manager, item.instanceId, inputOf(item), undefined, (locked) =>
            this.claim(locked, item),
          ),
        );
      } catch (error) {
        failedInstances.add(item.instanceId);
        firstFailure ??= error;
      }
    }
    if (failedInstances.size > 0) throw firstFailure;
    return (
      due.filter((item) => item.source === 'timer').length === this.batchSize ||
      due.filter((item) => item.source === 'task').length === this.batchSize
    );
  }

  /** Marks the row fired or timed out if it still is due: another poller, a result or a cancel may have won. */
  private claim(manager: EntityManager, item: DueWork): Promise<boolean> {
    const { tasks, timers } = this.options.repositories;
    return item.source === 'timer'
      ? timers.fire(manager, item.instanceId, item.timerId)
      : tasks.expire(manager, item.instanceId, item.taskId);
  }
}

function inputOf(item: DueWork): WorkflowInput {
  if (item.source === 'timer') return { type: 'timer.fired', timerId: item.timerId };
  const attempt = { stepId: item.stepId, run: item.run, attempt: item.attempt };
  return item.kind === 'compensation'
    ? { type: 'compensation.failed', ...attempt, error: `${item.timeout} timeout`, retryable: true }
    : { type: 'task.timedOut', ...attempt, timeout: item.timeout };
}
