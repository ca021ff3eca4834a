import { type CloudEvent, type TopicData, type TopicDefinition, encodeEvent } from '@keel/contracts';
import type { OutgoingRecord } from './record-sender';

/**
 * An event encoded for its topic, plus the plain W3C `traceparent` header beside `ce_traceparent`, so
 * OpenTelemetry's Kafka instrumentation links spans. Published directly or stored in the outbox alike.
 */
export function outgoingRecord<T extends TopicDefinition>(
  topic: T,
  event: CloudEvent<TopicData<T>>,
): OutgoingRecord {
  const record = encodeEvent(topic, event);
  return {
    topic: topic.name,
    key: record.key,
    value: record.value,
    headers: event.traceparent ? { ...record.headers, traceparent: event.traceparent } : record.headers,
  };
}
