import type { DataSource } from 'typeorm';
import type { MessagingSchema } from './messaging-tables';

export interface MessagingRetentionOptions {
  readonly dataSource: DataSource;
  readonly tables: MessagingSchema;
  /** Published outbox rows are kept this long (for inspection), then deleted. */
  readonly outboxRetentionMs: number;
  /**
   * Processed-event ids are kept this long: the deduplication window. A record redelivered later than this
   * would be applied again, so it must exceed any redelivery delay (consumer downtime, replays).
   */
  readonly processedEventsRetentionMs: number;
  readonly batchSize?: number;
}

/** Keeps a service's messaging tables bounded; run its `tick` periodically. */
export class MessagingRetention {
  private readonly batchSize: number;

  constructor(private readonly options: MessagingRetentionOptions) {
    this.batchSize = options.batchSize ?? 1_000;
  }

  /** Deletes one batch from each table; true when a batch was full (more is due). */
  async tick(): Promise<boolean> {
    const { dataSource, tables } = this.options;
    const [, outbox] = await dataSource.query<[unknown[], number]>(
      `DELETE FROM ${tables.outbox} WHERE id IN (
         SELECT id FROM ${tables.outbox}
         WHERE published_at < now() - ($1::bigint * interval '1 millisecond') LIMIT $2)`,
      [this.options.outboxRetentionMs, this.batchSize],
    );
    const [, processed] = await dataSource.query<[unknown[], number]>(
      `DELETE FROM ${tables.processedEvents} WHERE ctid IN (
         SELECT ctid FROM ${tables.processedEvents}
         WHERE processed_at < now() - ($1::bigint * interval '1 millisecond') LIMIT $2)`,
      [this.options.processedEventsRetentionMs, this.batchSize],
    );
    return outbox === this.batchSize || processed === this.batchSize;
  }
}
