import { integerLiteral } from '@keel/persistence';
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
  private readonly deleteOutbox: string;
  private readonly deleteProcessed: string;

  constructor(private readonly options: MessagingRetentionOptions) {
    this.batchSize = options.batchSize ?? 1_000;
    const { tables } = options;
    // The ages and the batch size are in the text, not parameters: a plan made without their values (a
    // service may run generic plans, ADR 0035) would scan the whole table where the index finds no old row.
    const limit = integerLiteral(this.batchSize, 'retention batch size');
    const outboxAge = integerLiteral(options.outboxRetentionMs, 'outbox retention');
    const processedAge = integerLiteral(options.processedEventsRetentionMs, 'processed events retention');
    this.deleteOutbox = `DELETE FROM ${tables.outbox} WHERE id IN (
         SELECT id FROM ${tables.outbox}
         WHERE published_at < now() - interval '${outboxAge} milliseconds' LIMIT ${limit})`;
    this.deleteProcessed = `DELETE FROM ${tables.processedEvents} WHERE ctid IN (
         SELECT ctid FROM ${tables.processedEvents}
         WHERE processed_at < now() - interval '${processedAge} milliseconds' LIMIT ${limit})`;
  }

  /** Deletes one batch from each table; true when a batch was full (more is due). */
  async tick(): Promise<boolean> {
    const { dataSource } = this.options;
    const [, outbox] = await dataSource.query<[unknown[], number]>(this.deleteOutbox);
    const [, processed] = await dataSource.query<[unknown[], number]>(this.deleteProcessed);
    return outbox === this.batchSize || processed === this.batchSize;
  }
}
