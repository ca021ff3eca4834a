import type { DataSource } from 'typeorm';

export interface RetentionPrunerOptions {
  readonly dataSource: DataSource;
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
    const { dataSource, retentionMs, tombstoneRetentionMs } = this.options;
    const [pruned] = await dataSource.query<Array<{ instances: number }>>(
      `WITH pruned AS (
         DELETE FROM "workflow"."instances" WHERE id IN (
           SELECT id FROM "workflow"."instances"
           WHERE finished_at < now() - ($1::bigint * interval '1 millisecond') LIMIT $2)
         RETURNING id, workflow_name, workflow_version, status, finished_at),
       tombstones AS (
         INSERT INTO "workflow"."instance_tombstones" (instance_id, workflow_name, workflow_version, status, finished_at)
         SELECT id, workflow_name, workflow_version, status, finished_at FROM pruned
         ON CONFLICT (instance_id) DO NOTHING)
       SELECT count(*)::int AS instances FROM pruned`,
      [retentionMs, this.batchSize],
    );
    const [, tombstones] = await dataSource.query<[unknown[], number]>(
      `DELETE FROM "workflow"."instance_tombstones" WHERE instance_id IN (
         SELECT instance_id FROM "workflow"."instance_tombstones"
         WHERE pruned_at < now() - ($1::bigint * interval '1 millisecond') LIMIT $2)`,
      [tombstoneRetentionMs, this.batchSize],
    );
    return pruned?.instances === this.batchSize || tombstones === this.batchSize;
  }
}
