import type { CloudEvent, TopicData, TopicDefinition } from '@keel/contracts';
import type { EntityManager } from 'typeorm';
import type { MessagingSchema } from './messaging-tables';
import { outgoingRecord } from './outgoing-record';

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
  }
}
