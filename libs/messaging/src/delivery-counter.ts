import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { MessagingSchema } from './messaging-tables';

/** Offsets of a partition that an earlier delivery left unfinished: handle them one at a time, counted. */
export interface UnfinishedRange {
  readonly from: bigint;
  readonly to: bigint;
}

/**
 * Durable delivery counts, so a record whose handler takes the process down (exit, endless loop, out of
 * memory) is recognised after a restart and dead-lettered instead of redelivered forever.
 *
 * One row per (group, topic, partition) describes the run of records in flight: its offsets, how often its
 * first record was delivered, and which consumer instance wrote it. It is written in its own committed
 * statement before the run's handlers start, so it survives whatever happens to the process next:
 * - a run that starts past the row's last offset finds the previous run finished, and overwrites the row
 *   (one upsert per run of records: the whole cost on the normal path);
 * - a run that overlaps the row of another instance is a redelivery after that instance died mid-run. The
 *   culprit is one of the row's records, so they are handled one at a time, each counted before its
 *   handler (`countAlone`); a record counted more than the limit is dead-lettered unhandled.
 * Records before the unfinished range were handled by the instance that died (they are duplicates now);
 * if they are not all processed, the group replays from before the row (offsets reset past the dedupe
 * window), the row is from an earlier pass, and counting starts afresh (`countReplayedRun`).
 * A redelivery to the instance that wrote the row (kafkajs retrying a batch, a partition coming back after
 * a rebalance) is no crash, and counts nothing. A partition handed over mid-run to another live member
 * counts once, as a crash would: the new owner cannot tell the two apart.
 */
export class DeliveryCounter {
  /** Tells this consumer's own rows from those of instances that died. */
  private readonly instance = randomUUID();

  constructor(
    private readonly dataSource: DataSource,
    private readonly tables: MessagingSchema,
    private readonly groupId: string,
  ) {}

  /** Fails, naming the fix, when the service's migrations lack the delivery counts table. */
  async assertTable(): Promise<void> {
    const [{ present }] = await this.dataSource.query<[{ present: boolean }]>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [this.tables.deliveryCounts],
    );
    if (!present)
      throw new Error(
        `${this.tables.deliveryCounts} does not exist: list messagingDeliveryCountsMigration('${this.tables.schema}') among the service's migrations`,
      );
  }

  /**
   * Counts a delivery of the run `[first, last]` of a partition. Returns nothing when no earlier delivery
   * of these records is unfinished (the run proceeds as one), else the range left unfinished.
   */
  async countRun(
    topic: string,
    partition: number,
    first: string,
    last: string,
  ): Promise<UnfinishedRange | undefined> {
    const counted = await this.dataSource.query<unknown[]>(
      `INSERT INTO ${this.tables.deliveryCounts} AS counts
         (consumer_group, topic, partition, first_offset, last_offset, deliveries, consumer_instance)
       VALUES ($1, $2, $3, $4, $5, 1, $6)
       ON CONFLICT (consumer_group, topic, partition) DO UPDATE
         SET first_offset = EXCLUDED.first_offset, last_offset = EXCLUDED.last_offset, deliveries = 1,
             consumer_instance = EXCLUDED.consumer_instance
         WHERE counts.last_offset < EXCLUDED.first_offset
            OR (counts.consumer_instance = EXCLUDED.consumer_instance AND counts.deliveries = 1)
       RETURNING 1`,
      [this.groupId, topic, partition, first, last, this.instance],
    );
    if (counted.length > 0) return undefined;
    const [unfinished] = await this.dataSource.query<Array<{ first: string; last: string }>>(
      `SELECT first_offset AS first, last_offset AS last FROM ${this.tables.deliveryCounts}
       WHERE consumer_group = $1 AND topic = $2 AND partition = $3`,
      [this.groupId, topic, partition],
    );
    // Gone meanwhile (the unlogged table was emptied by a Postgres crash): nothing is known to be unfinished.
    return unfinished && { from: BigInt(unfinished.first), to: BigInt(unfinished.last) };
  }

  /**
   * Counts the run `[first, last]` afresh, whatever the row says: for a replay (offsets reset to before the
   * row, past the deduplication window), where the row is left from an earlier pass over the partition.
   */
  async countReplayedRun(topic: string, partition: number, first: string, last: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${this.tables.deliveryCounts}
       SET first_offset = $4, last_offset = $5, deliveries = 1, consumer_instance = $6
       WHERE consumer_group = $1 AND topic = $2 AND partition = $3`,
      [this.groupId, topic, partition, first, last, this.instance],
    );
  }

  /**
   * Counts a delivery of one record of an unfinished range and returns its deliveries so far, this one
   * included. The range's first record has its own count; a later one was delivered once before, in the
   * run that did not finish. The row then describes this record, so the next instance resumes from it.
   */
  async countAlone(topic: string, partition: number, offset: string): Promise<number> {
    const [row] = await this.dataSource.query<Array<{ deliveries: number }>>(
      `INSERT INTO ${this.tables.deliveryCounts} AS counts
         (consumer_group, topic, partition, first_offset, last_offset, deliveries, consumer_instance)
       VALUES ($1, $2, $3, $4, $4, 2, $5)
       ON CONFLICT (consumer_group, topic, partition) DO UPDATE
         SET deliveries = CASE
               WHEN counts.first_offset <> EXCLUDED.first_offset THEN 2
               WHEN counts.consumer_instance = EXCLUDED.consumer_instance THEN counts.deliveries
               ELSE counts.deliveries + 1
             END,
             first_offset = EXCLUDED.first_offset,
             last_offset = GREATEST(counts.last_offset, EXCLUDED.first_offset),
             consumer_instance = EXCLUDED.consumer_instance
       RETURNING deliveries`,
      [this.groupId, topic, partition, offset, this.instance],
    );
    return row.deliveries;
  }
}
