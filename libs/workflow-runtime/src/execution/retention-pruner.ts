import type { DataSource } from 'typeorm';

export interface RetentionPrunerOptions {
  readonly dataSource: DataSource;
  /** Finished instances (and their transitions, tasks and timers) are deleted this long after finishing. */
  readonly retentionMs: number;
  readonly batchSize?: number;
}

/**
 * Keeps the workflow tables bounded: finished instances past retention are deleted in batches (their
 * history, tasks and timers go with them by cascade). Their events stay in Kafka and in governance's audit
 * log; the messaging tables are kept bounded by the messaging module.
 */
export class RetentionPruner {
  private readonly batchSize: number;

  constructor(private readonly options: RetentionPrunerOptions) {
    this.batchSize = options.batchSize ?? 500;
  }

  /** Deletes one batch; true when the batch was full. */
  async tick(): Promise<boolean> {
    const [, instances] = await this.options.dataSource.query<[unknown[], number]>(
      `DELETE FROM "workflow"."instances" WHERE id IN (
         SELECT id FROM "workflow"."instances"
         WHERE finished_at < now() - ($1::bigint * interval '1 millisecond') LIMIT $2)`,
      [this.options.retentionMs, this.batchSize],
    );
    return instances === this.batchSize;
  }
}
