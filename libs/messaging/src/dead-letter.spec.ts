import {
  NonRetryableError,
  deadLetterHeaders,
  deadLetterRecord,
  truncatedDeadLetterRecord,
  truncatedValueBytes,
} from '@keel/messaging';
import type { KafkaMessage } from 'kafkajs';

describe('deadLetterRecord', () => {
  const message: KafkaMessage = {
    key: Buffer.from('case-7'),
    value: Buffer.from('{"broken":'),
    headers: { ce_id: Buffer.from('evt-7'), ce_type: 'keel.order.received' },
    offset: '42',
    timestamp: '0',
    attributes: 0,
  };

  it('keeps the original key, value and headers and adds why and where it failed', () => {
    const record = deadLetterRecord(
      message,
      { topic: 'keel.cases.events.v1', partition: 3, offset: '42', consumerGroup: 'decisioning' },
      {
        reason: 'handler-failed',
        error: new Error('db down'),
        attempts: 5,
        failedAt: new Date('2026-11-24T10:00:00Z'),
      },
    );
    expect(record).toEqual({
      topic: 'keel.cases.events.v1.dlq',
      key: 'case-7',
      value: message.value,
      headers: {
        ce_id: 'evt-7',
        ce_type: 'keel.order.received',
        [deadLetterHeaders.reason]: 'handler-failed',
        [deadLetterHeaders.error]: 'db down',
        [deadLetterHeaders.originTopic]: 'keel.cases.events.v1',
        [deadLetterHeaders.originPartition]: '3',
        [deadLetterHeaders.originOffset]: '42',
        [deadLetterHeaders.consumerGroup]: 'decisioning',
        [deadLetterHeaders.attempts]: '5',
        [deadLetterHeaders.failedAt]: '2026-11-24T10:00:00.000Z',
      },
    });
  });

  it("names a KeelError's code in keel_dlq_code, and writes no code for any other error", () => {
    const origin = { topic: 't', partition: 0, offset: '1', consumerGroup: 'g' };
    const failure = { reason: 'non-retryable' as const, attempts: 1, failedAt: new Date(0) };
    const coded = deadLetterRecord(message, origin, {
      ...failure,
      error: new NonRetryableError('bad'),
    });
    expect(coded.headers[deadLetterHeaders.code]).toBe('non-retryable');
    expect(deadLetterHeaders.code).toBe('keel_dlq_code');
    const plain = deadLetterRecord(message, origin, { ...failure, error: new Error('bad') });
    expect(plain.headers).not.toHaveProperty(deadLetterHeaders.code);
  });

  it('bounds the error text so one huge message cannot exceed the record size', () => {
    const record = deadLetterRecord(
      message,
      { topic: 't', partition: 0, offset: '1', consumerGroup: 'g' },
      { reason: 'non-retryable', error: 'x'.repeat(10_000), attempts: 1, failedAt: new Date(0) },
    );
    expect(record.headers[deadLetterHeaders.error]).toHaveLength(4_000);
  });

  it('truncates a dead letter the broker refused for its size to the way back to the original', () => {
    const huge: KafkaMessage = {
      ...message,
      value: Buffer.alloc(1_046_000, 'x'),
      headers: { ...message.headers, big: 'y'.repeat(10_000) },
    };
    const origin = {
      topic: 'keel.cases.events.v1',
      partition: 3,
      offset: '42',
      consumerGroup: 'decisioning',
    };
    const failure = {
      reason: 'non-retryable' as const,
      error: new Error('z'.repeat(5_000)),
      attempts: 1,
      failedAt: new Date('2026-11-24T10:00:00Z'),
    };
    const refused = deadLetterRecord(huge, origin, failure);

    const record = truncatedDeadLetterRecord(huge, origin, failure);
    expect(record.topic).toBe('keel.cases.events.v1.dlq');
    expect(record.key).toBe('case-7');
    expect(record.value).toEqual(huge.value?.subarray(0, truncatedValueBytes));
    expect(record.headers).toEqual({
      ce_id: 'evt-7',
      [deadLetterHeaders.reason]: 'too-large',
      [deadLetterHeaders.originalReason]: 'non-retryable',
      [deadLetterHeaders.error]: 'z'.repeat(1_000),
      [deadLetterHeaders.originTopic]: 'keel.cases.events.v1',
      [deadLetterHeaders.originPartition]: '3',
      [deadLetterHeaders.originOffset]: '42',
      [deadLetterHeaders.consumerGroup]: 'decisioning',
      [deadLetterHeaders.attempts]: '1',
      [deadLetterHeaders.failedAt]: '2026-11-24T10:00:00.000Z',
      [deadLetterHeaders.originalBytes]: String(
        1_046_000 +
          'case-7'.length +
          Object.entries(refused.headers).reduce((sum, [name, value]) => sum + name.length + value.length, 0),
      ),
    });
  });
});
