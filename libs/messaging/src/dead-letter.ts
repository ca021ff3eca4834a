import { deadLetterTopicName } from '@keel/contracts';
import type { KafkaMessage } from 'kafkajs';
import type { OutgoingRecord } from './record-sender';

/** Why a record was dead-lettered; carried in the `keel_dlq_reason` header. */
export type DeadLetterReason = 'contract-violation' | 'handler-failed' | 'non-retryable';

export interface DeadLetterOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly consumerGroup: string;
}

/** Header names a dead-letter record carries beside the original headers. */
export const deadLetterHeaders = {
  reason: 'keel_dlq_reason',
  error: 'keel_dlq_error',
  originTopic: 'keel_dlq_origin_topic',
  originPartition: 'keel_dlq_origin_partition',
  originOffset: 'keel_dlq_origin_offset',
  consumerGroup: 'keel_dlq_consumer_group',
  attempts: 'keel_dlq_attempts',
  failedAt: 'keel_dlq_failed_at',
} as const;

/** The original record, untouched (key, value, headers), plus why and where it failed. */
export function deadLetterRecord(
  message: KafkaMessage,
  origin: DeadLetterOrigin,
  failure: { reason: DeadLetterReason; error: unknown; attempts: number; failedAt: Date },
): OutgoingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined)
      headers[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  const errorText = failure.error instanceof Error ? failure.error.message : String(failure.error);
  return {
    topic: deadLetterTopicName(origin.topic),
    key: message.key?.toString() ?? '',
    value: message.value ?? Buffer.alloc(0),
    headers: {
      ...headers,
      [deadLetterHeaders.reason]: failure.reason,
      [deadLetterHeaders.error]: errorText.slice(0, 4000),
      [deadLetterHeaders.originTopic]: origin.topic,
      [deadLetterHeaders.originPartition]: String(origin.partition),
      [deadLetterHeaders.originOffset]: origin.offset,
      [deadLetterHeaders.consumerGroup]: origin.consumerGroup,
      [deadLetterHeaders.attempts]: String(failure.attempts),
      [deadLetterHeaders.failedAt]: failure.failedAt.toISOString(),
    },
  };
}
