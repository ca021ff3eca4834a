import type { TombstoneRepository, Transactions } from '../persistence/workflow-repositories';

export interface RetentionPrunerOptions {
  readonly transactions: Transactions;
  readonly tombstones: TombstoneRepository;
  /** Finished instances (and their transitions, tasks and timers) are deleted this long after finishing. */
  readonly retentionMs: number;
  /**
   * A pruned instance's tombstone is kept this long, so a replayed start of it is recognised: the
   * deduplication window, which outlasts the retention of every topic a start can come from.
   */
  readonly tombstoneRetentionMs: number;
  readonly batchSize?: number;
}

/**
 * Keeps the workflow tables bounded: finished instances past retention are deleted in batches (their
 * history, tasks and timers go with them by cascade), each leaving a tombstone in the same statement, and
 * tombstones past theirs go too. Their events stay in Kafka and in governance's audit log; the messaging
 * tables are kept bounded by the messaging module.
 */
export class RetentionPruner {
  private readonly batchSize: number;

  constructor(private readonly options: RetentionPrunerOptions) {
    this.batchSize = options.batchSize ?? 500;
  }

  /** Deletes one batch of instances and one of tombstones; true when a batch was full. */
  async tick(): Promise<boolean> {
    const { transactions, tombstones, retentionMs, tombstoneRetentionMs } = this.options;
    const instances = await tombstones.buryFinished(transactions.outside, retentionMs, this.batchSize);
    const forgotten = await tombstones.forget(transactions.outside, tombstoneRetentionMs, this.batchSize);
    return instances === this.batchSize || forgotten === this.batchSize;
  }
}
