import type { CloudEvent } from './cloud-event';
import { ContractViolationError, type Violation } from './contract-violation.error';
import { type EncodedRecord, fromKafkaRecord, type KafkaRecord, toKafkaRecord } from './kafka-binding';
import type { TopicData, TopicDefinition } from './topic-registry';

/** Attributes a producer supplies; `dataschema`, `specversion` and `datacontenttype` come from the topic. */
export type EventDraft<Data> = Omit<CloudEvent<Data>, 'dataschema' | 'specversion' | 'datacontenttype'>;

/** Builds a complete event for a topic and validates it, so nothing invalid is ever published. */
export function buildEvent<T extends TopicDefinition>(
  topic: T,
  draft: EventDraft<TopicData<T>>,
): CloudEvent<TopicData<T>> {
  const event = {
    ...draft,
    specversion: '1.0' as const,
    datacontenttype: 'application/json' as const,
    dataschema: topic.dataschema,
  };
  validateData(topic, event);
  return event;
}

/** Validated event → binary-mode Kafka record for its topic. */
export function encodeEvent<T extends TopicDefinition>(
  topic: T,
  event: CloudEvent<TopicData<T>>,
): EncodedRecord {
  validateData(topic, event);
  return toKafkaRecord(event);
}

/**
 * Kafka record → event whose envelope and data both satisfy the topic's contract. Every violation is
 * reported with its path (`data.action.tool`, `ce_time`…), so a dead-letter reason is readable.
 */
export function decodeEvent<T extends TopicDefinition>(
  topic: T,
  record: KafkaRecord,
): CloudEvent<TopicData<T>> {
  const event = fromKafkaRecord(record);
  return validateData(topic, event);
}

function validateData<T extends TopicDefinition>(
  topic: T,
  event: CloudEvent<unknown>,
): CloudEvent<TopicData<T>> {
  const violations: Violation[] = [];
  if (event.dataschema !== topic.dataschema) {
    violations.push({
      path: 'dataschema',
      message: `expected ${topic.dataschema} on ${topic.name}, got ${event.dataschema}`,
    });
  }
  const parsed = topic.schema.safeParse(event.data);
  if (!parsed.success)
    violations.push(...ContractViolationError.fromZod(topic.name, parsed.error, 'data').violations);
  if (violations.length > 0) throw new ContractViolationError(topic.name, violations);
  return { ...event, data: parsed.data as TopicData<T> };
}
