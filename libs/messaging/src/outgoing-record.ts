import { type CloudEvent, type TopicData, type TopicDefinition, encodeEvent } from '@keel/contracts';
import { activeTraceparent } from '@keel/tracing';
import type { OutgoingRecord } from './record-sender';

/**
 * An event encoded for its topic, plus the plain W3C `traceparent` header beside `ce_traceparent`, so
 * OpenTelemetry's Kafka instrumentation links spans. Published directly or stored in the outbox alike.
 * An event without a trace context takes the active span's, so a trace survives the outbox: the row is
 * written inside the span that caused it and published later by the relay, outside it.
 */
export function outgoingRecord<T extends TopicDefinition>(
  topic: T,
  event: CloudEvent<TopicData<T>>,
): OutgoingRecord {
  const traceparent = event.traceparent ?? activeTraceparent();
  const record = encodeEvent(topic, traceparent === event.traceparent ? event : { ...event, traceparent });
  return {
    topic: topic.name,
    key: record.key,
    value: record.value,
    headers: traceparent ? { ...record.headers, traceparent } : record.headers,
  };
}
