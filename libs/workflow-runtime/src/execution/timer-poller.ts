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

  /** Fires up to one batch of due timers; true when the batch was full. */
  async tick(): Promise<boolean> {
    let fired = 0;
    for (;;) {
      const more = await this.options.dataSource.transaction(async (manager) => {
        const [due] = await manager.query<DueTimer[]>(
          `SELECT instance_id, timer_id FROM "workflow"."timers"
           WHERE status = 'scheduled' AND due_at <= $1
           ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [this.options.now()],
        );
        if (!due) return false;
        await manager.query(
          `UPDATE "workflow"."timers" SET status = 'fired' WHERE instance_id = $1 AND timer_id = $2`,
          [due.instance_id, due.timer_id],
        );
        await this.options.executor.apply(manager, due.instance_id, {
          type: 'timer.fired',
          timerId: due.timer_id,
        });
        return true;
      });
      if (!more) return false;
      if (++fired >= this.batchSize) return true;
    }
  }
}
