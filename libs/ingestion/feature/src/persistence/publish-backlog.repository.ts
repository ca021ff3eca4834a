import { MessagingSchema } from '@keel/messaging';
import type { EntityManager } from 'typeorm';

/** The port: how far the outbox relay is behind, which says whether Kafka takes what ingestion accepts. */
export interface PublishBacklog {
  /** How long the oldest event still waiting to be published has waited (ms); undefined when none waits. */
  oldestWaitMs(manager: EntityManager): Promise<number | undefined>;
}

/** Reads the service's own outbox (the messaging tables live in its schema). */
export class PostgresPublishBacklog implements PublishBacklog {
  private readonly outbox: string;

  constructor(schema: string) {
    this.outbox = new MessagingSchema(schema).outbox;
  }

  async oldestWaitMs(manager: EntityManager): Promise<number | undefined> {
    // The relay publishes in id order, so the lowest unpublished id is the oldest; the partial index serves it.
    // Measured on the database's clock, which wrote `created_at`.
    const [row] = await manager.query<Array<{ wait_ms: number }>>(
      `SELECT (EXTRACT(EPOCH FROM clock_timestamp() - created_at) * 1000)::float8 AS wait_ms
       FROM ${this.outbox} WHERE published_at IS NULL ORDER BY id LIMIT 1`,
    );
    return row?.wait_ms;
  }
}
