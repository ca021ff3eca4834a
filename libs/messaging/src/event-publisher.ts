import { type CloudEvent, type TopicData, type TopicDefinition, encodeEvent } from '@keel/contracts';
import type { RecordSender } from './record-sender';
import { traceHeaders } from './trace-headers';

/**
 * Publishes validated events straight to Kafka, keyed by case id. For events that announce a database
 * change, use the outbox instead, so the change and its events cannot part.
 */
export class EventPublisher {
  constructor(private readonly sender: RecordSender) {}

  async publish<T extends TopicDefinition>(
    topic: T,
    events: ReadonlyArray<CloudEvent<TopicData<T>>>,
  ): Promise<void> {
    await this.sender.send(
      events.map((event) => {
        const record = encodeEvent(topic, event);
        return {
          topic: topic.name,
          key: record.key,
          value: record.value,
          headers: { ...record.headers, ...traceHeaders(event) },
        };
      }),
    );
  }
}
