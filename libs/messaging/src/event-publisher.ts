import type { CloudEvent, TopicData, TopicDefinition } from '@keel/contracts';
import type { RecordSender } from './record-sender';
import { outgoingRecord } from './outgoing-record';

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
    await this.sender.send(events.map((event) => outgoingRecord(topic, event)));
  }
}
