import type { CloudEvent, TopicData, TopicDefinition } from '@keel/contracts';
import type { EntityManager, QueryRunner } from 'typeorm';
import type { MessagingSchema } from './messaging-tables';
import { outgoingRecord } from './outgoing-record';

/**
 * Transactions that wrote outbox rows and have not ended yet, with the outbox tables they wrote: a relay on
 * the same data source publishes them as soon as the transaction commits (`OutboxRelay` watches commits).
 */
const outboxesWrittenBy = new WeakMap<QueryRunner, Set<string>>();

/** Whether the transaction of `queryRunner` wrote to `outbox`; forgets it (the transaction has ended). */
export function takeOutboxWrite(queryRunner: QueryRunner, outbox: string): boolean {
  return outboxesWrittenBy.get(queryRunner)?.delete(outbox) ?? false;
}

/**
 * Writes events to the outbox inside the caller's transaction, so the state change and the events it
 * announces commit together; the relay publishes them afterwards.
 */
export class OutboxWriter {
  constructor(private readonly tables: MessagingSchema) {}

  async enqueue<T extends TopicDefinition>(
    manager: EntityManager,
    topic: T,
    events: ReadonlyArray<CloudEvent<TopicData<T>>>,
  ): Promise<void> {
    if (events.length === 0) return;
    const params: unknown[] = [];
    const rows = events.map((event) => {
      const record = outgoingRecord(topic, event);
      params.push(record.topic, record.key, record.value, JSON.stringify(record.headers));
      const base = params.length - 4;
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}::jsonb)`;
    });
    await manager.query(
      `INSERT INTO ${this.tables.outbox} (topic, message_key, value, headers) VALUES ${rows.join(', ')}`,
      params,
    );
    // A manager without a query runner of its own wrote outside a transaction: the relay's poll finds it.
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) {
      const written = outboxesWrittenBy.get(runner) ?? new Set<string>();
      written.add(this.tables.outbox);
      outboxesWrittenBy.set(runner, written);
    }
  }
}
