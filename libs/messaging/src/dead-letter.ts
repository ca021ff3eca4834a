import { deadLetterTopicName } from '@keel/contracts';
import { isKeelError } from '@keel/errors';
import type { KafkaMessage } from 'kafkajs';
import type { OutgoingRecord } from './record-sender';

/**
 * Why a record was dead-lettered; carried in the `keel_dlq_reason` header. `delivery-limit`: delivered
 * too often without finishing (its handler took the process down each time); `too-large`: the dead letter
 * itself exceeded the broker's size limit, so a truncated copy went instead (`truncatedDeadLetterRecord`).
 */
export type DeadLetterReason =
  'contract-violation' | 'handler-failed' | 'non-retryable' | 'delivery-limit' | 'too-large';

export interface DeadLetterOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly consumerGroup: string;
}

/** Header names a dead-letter record carries beside the original headers. */
export const deadLetterHeaders = {
  reason: 'keel_dlq_reason',
  /** The code of the `KeelError` that dead-lettered the record (e.g. `unknown-workflow`), when it was one. */
  code: 'keel_dlq_code',
  error: 'keel_dlq_error',
  originTopic: 'keel_dlq_origin_topic',
  originPartition: 'keel_dlq_origin_partition',
  originOffset: 'keel_dlq_origin_offset',
  consumerGroup: 'keel_dlq_consumer_group',
  attempts: 'keel_dlq_attempts',
  failedAt: 'keel_dlq_failed_at',
  /** On a truncated copy: the reason the record was dead-lettered for in the first place. */
  originalReason: 'keel_dlq_original_reason',
  /** On a truncated copy: the size of the dead letter the broker refused (value plus headers). */
  originalBytes: 'keel_dlq_original_bytes',
} as const;

/** How much of the value a truncated dead letter keeps: enough to recognise the record. */
export const truncatedValueBytes = 16 * 1024;

export interface DeadLetterFailure {
  readonly reason: DeadLetterReason;
  readonly error: unknown;
  readonly attempts: number;
  readonly failedAt: Date;
}

/** The original record, untouched (key, value, headers), plus why and where it failed. */
export function deadLetterRecord(
  message: KafkaMessage,
  origin: DeadLetterOrigin,
  failure: DeadLetterFailure,
): OutgoingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined)
      headers[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return {
    topic: deadLetterTopicName(origin.topic),
    key: message.key?.toString() ?? '',
    value: message.value ?? Buffer.alloc(0),
    headers: { ...headers, ...failureHeaders(origin, failure, 4000) },
  };
}

/**
 * The dead letter to send when `deadLetterRecord`'s was refused for its size: the key, the first
 * `truncatedValueBytes` of the value, the event id, and why and where it failed — reason `too-large`, the
 * first reason beside it. The full record stays readable at its origin coordinates (within the topic's
 * retention), so nothing is needed from the copy but the way back.
 */
export function truncatedDeadLetterRecord(
  message: KafkaMessage,
  origin: DeadLetterOrigin,
  failure: DeadLetterFailure,
): OutgoingRecord {
  const refused = deadLetterRecord(message, origin, failure);
  const refusedBytes = Object.entries(refused.headers).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    refused.value.length + Buffer.byteLength(refused.key),
  );
  const eventId = message.headers?.ce_id?.toString();
  return {
    topic: refused.topic,
    key: refused.key,
    value: refused.value.subarray(0, truncatedValueBytes),
    headers: {
      ...(eventId === undefined ? {} : { ce_id: eventId }),
      ...failureHeaders(origin, { ...failure, reason: 'too-large' }, 1000),
      [deadLetterHeaders.originalReason]: failure.reason,
      [deadLetterHeaders.originalBytes]: String(refusedBytes),
    },
  };
}

function failureHeaders(
  origin: DeadLetterOrigin,
  failure: DeadLetterFailure,
  errorChars: number,
): Record<string, string> {
  const errorText = failure.error instanceof Error ? failure.error.message : String(failure.error);
  return {
    [deadLetterHeaders.reason]: failure.reason,
    ...(isKeelError(failure.error) ? { [deadLetterHeaders.code]: failure.error.code } : {}),
    [deadLetterHeaders.error]: errorText.slice(0, errorChars),
    [deadLetterHeaders.originTopic]: origin.topic,
    [deadLetterHeaders.originPartition]: String(origin.partition),
    [deadLetterHeaders.originOffset]: origin.offset,
    [deadLetterHeaders.consumerGroup]: origin.consumerGroup,
    [deadLetterHeaders.attempts]: String(failure.attempts),
    [deadLetterHeaders.failedAt]: failure.failedAt.toISOString(),
  };
}
