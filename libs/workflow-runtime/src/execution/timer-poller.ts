import type { DataSource } from 'typeorm';
import type { WorkflowExecutor } from './workflow-executor';

interface DueTimer {
  instance_id: string;
  timer_id: string;
}

export interface TimerPollerOptions {
  readonly dataSource: DataSource;
  readonly executor: WorkflowExecutor;
  readonly now: () => Date;
  readonly batchSize?: number;
}

/**
 * Fires due timers. Timers are rows, so they survive restarts: one that fell due while the service was down
 * fires at the first poll after it is back. Each firing is one transaction — the timer is marked fired and
 * `timer.fired` applied to its instance together — so it fires once.
 */
export class TimerPoller {
  private readonly batchSize: number;

  constructor(private readonly options: TimerPollerOptions) {
    this.batchSize = options.batchSize ?? 100;
  }

  /**
   * Fires up to one batch of due timers; true when the batch was full. A timer whose firing fails (its
   * instance's definition version is not stored yet, say) stays scheduled for the next tick while the timers
   * behind it fire; the first such failure is then reported.
   */
  async tick(): Promise<boolean> {
    let fired = 0;
    const failedInstances: string[] = [];
    let firstFailure: unknown;
    for (;;) {
      let firing: DueTimer | undefined;
      const more = await this.options.dataSource
        .transaction(async (manager) => {
          const [due] = await manager.query<DueTimer[]>(
            `SELECT instance_id, timer_id FROM "workflow"."timers"
             WHERE status = 'scheduled' AND due_at <= $1 AND NOT (instance_id = ANY($2::text[]))
             ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
            [this.options.now(), failedInstances],
          );
          if (!due) return false;
          firing = due;
          await manager.query(
            `UPDATE "workflow"."timers" SET status = 'fired' WHERE instance_id = $1 AND timer_id = $2`,
            [due.instance_id, due.timer_id],
          );
          await this.options.executor.apply(manager, due.instance_id, {
            type: 'timer.fired',
            timerId: due.timer_id,
          });
          return true;
        })
        .catch((error: unknown) => {
          // Without a timer in hand the poll itself failed (Postgres unreachable): nothing to skip.
          if (!firing) throw error;
          failedInstances.push(firing.instance_id);
          firstFailure ??= error;
          return true;
        });
      if (!more) break;
      if (++fired >= this.batchSize) return true;
    }
    if (failedInstances.length > 0) throw firstFailure;
    return false;
  }
}
