import type { WorkflowInput } from '@keel/workflow-engine';
import type { DataSource, EntityManager } from 'typeorm';
import type { WorkflowExecutor } from './workflow-executor';

/** Something due: a timer, or a task attempt that broke its schedule-to-start, start-to-close or heartbeat. */
interface Due {
  source: 'timer' | 'task';
  instance_id: string;
  /** The timer id, or the task row id. */
  ref: string;
  kind: 'task' | 'compensation' | null;
  step_id: string | null;
  run: number | null;
  attempt: number | null;
  timeout: 'scheduleToStart' | 'startToClose' | 'heartbeat' | null;
}

export interface TimerPollerOptions {
  readonly dataSource: DataSource;
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
    // Timer due times are on the application clock, task leases and deadlines on the database's.
    const due = await this.options.dataSource.query<Due[]>(
      `(SELECT 'timer' AS source, instance_id, timer_id AS ref, NULL AS kind, NULL AS step_id, NULL::int AS run,
               NULL::int AS attempt, NULL AS timeout
        FROM "workflow"."timers" WHERE status = 'scheduled' AND due_at <= $1 ORDER BY due_at LIMIT $2)
       UNION ALL
       (SELECT 'task', instance_id, id::text, kind, step_id, run, attempt,
               CASE WHEN status = 'pending' THEN 'scheduleToStart'
                    WHEN claimed_at + timeout_ms * interval '1 millisecond' <= now() THEN 'startToClose'
                    ELSE 'heartbeat' END
        FROM "workflow"."tasks"
        WHERE (status = 'running' AND lease_until < now()) OR (status = 'pending' AND schedule_deadline < now())
        ORDER BY id LIMIT $2)`,
      [this.options.now(), this.batchSize],
    );
    const failedInstances = new Set<string>();
    let firstFailure: unknown;
    for (const item of due) {
      if (failedInstances.has(item.instance_id)) continue;
      try {
        await this.options.dataSource.transaction((manager) =>
          this.options.executor.apply(manager, item.instance_id, inputOf(item), undefined, (locked) =>
            claim(locked, item),
          ),
        );
      } catch (error) {
        failedInstances.add(item.instance_id);
        firstFailure ??= error;
      }
    }
    if (failedInstances.size > 0) throw firstFailure;
    return (
      due.filter((item) => item.source === 'timer').length === this.batchSize ||
      due.filter((item) => item.source === 'task').length === this.batchSize
    );
  }
}

/** Marks the row fired or timed out if it still is due: another poller, a result or a cancel may have won. */
async function claim(manager: EntityManager, item: Due): Promise<boolean> {
  const claimed = await manager.query<unknown[]>(
    item.source === 'timer'
      ? `WITH fired AS (
           UPDATE "workflow"."timers" SET status = 'fired'
           WHERE instance_id = $1 AND timer_id = $2 AND status = 'scheduled' RETURNING 1)
         SELECT * FROM fired`
      : `WITH expired AS (
           UPDATE "workflow"."tasks" SET status = 'timedOut', finished_at = now()
           WHERE instance_id = $1 AND id = $2::bigint
             AND ((status = 'running' AND lease_until < now()) OR (status = 'pending' AND schedule_deadline < now()))
           RETURNING 1)
         SELECT * FROM expired`,
    [item.instance_id, item.ref],
  );
  return claimed.length > 0;
}

function inputOf(item: Due): WorkflowInput {
  if (item.source === 'timer') return { type: 'timer.fired', timerId: item.ref };
  const attempt = { stepId: item.step_id ?? '', run: item.run ?? 0, attempt: item.attempt ?? 0 };
  const timeout = item.timeout ?? 'startToClose';
  return item.kind === 'compensation'
    ? { type: 'compensation.failed', ...attempt, error: `${timeout} timeout`, retryable: true }
    : { type: 'task.timedOut', ...attempt, timeout };
}
