import { type CloudEvent, type TopicData, type TopicDefinition, encodeEvent } from '@keel/contracts';
import type { EntityManager } from 'typeorm';
import type { MessagingSchema } from './messaging-tables';
import { traceHeaders } from './trace-headers';

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
      const record = encodeEvent(topic, event);
      params.push(
        topic.name,
        record.key,
        record.value,
        JSON.stringify({ ...record.headers, ...traceHeaders(event) }),
      );
      const base = params.length - 4;
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}::jsonb)`;
    });
    await manager.query(
      `INSERT INTO ${this.tables.outbox} (topic, message_key, value, headers) VALUES ${rows.join(', ')}`,
      params,
    );
  }
}
