import type { Notification, PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';

export interface QueueLeadershipEvents {
  /** A trigger was queued and committed. */
  readonly onNotify: () => void;
  /** The connection holding the lock broke: the lock is gone with it, and another replica may take it. */
  readonly onLost: (error: unknown) => void;
}

/**
 * One replica at a time drains the decision queue, so a case's triggers are decided and published in queue
 * order. The leader holds a session advisory lock on a connection of its own, which also LISTENs for new
 * triggers; the lock goes with the connection when the process dies, and the next replica to try takes it.
 */
export class DecisionQueueLeadership {
  private runner: QueryRunner | undefined;
  private held = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: string,
    private readonly events: QueueLeadershipEvents,
  ) {}

  get isLeader(): boolean {
    return this.held;
  }

  /** Tries to become the leader; true when this replica holds the lock (now or already). */
  async acquire(): Promise<boolean> {
    if (this.held) return true;
    const runner = this.runner ?? (await this.connect());
    const rows = (await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS held', [
      this.channel,
    ])) as Array<{ held: boolean }>;
    if (rows[0]?.held !== true) return false;
    await runner.query(`LISTEN "${this.channel}"`);
    this.held = true;
    return true;
  }

  /** Gives the lock and the connection back. */
  async release(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    const held = this.held;
    this.held = false;
    if (!runner) return;
    try {
      if (held) await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [this.channel]);
      await runner.query('UNLISTEN *');
    } finally {
      await runner.release();
    }
  }

  private async connect(): Promise<QueryRunner> {
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    const lost = (error: unknown) => {
      if (this.runner !== runner) return;
      this.runner = undefined;
      const wasLeader = this.held;
      this.held = false;
      // pg-pool destroys a client that is no longer queryable when it comes back, instead of reusing it.
      void runner.release();
      if (wasLeader) this.events.onLost(error);
    };
    client.on('notification', (message: Notification) => {
      if (message.channel === this.channel) this.events.onNotify();
    });
    client.on('error', lost);
    client.on('end', () => lost(new Error('leader connection ended')));
    this.runner = runner;
    return runner;
  }
}
