import { deadLetterTopicName, encodeEvent, fromKafkaRecord, topics } from '@keel/contracts';
import { deadLetterHeaders, subscribe } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordEffects,
  recordHeader,
  sequencedCaseEvent,
  waitFor,
} from '@keel/testing';

describe('EventConsumer on a real broker and Postgres', () => {
  const bed = messagingTestBed({ schemaPrefix: 'msg' });

  it('retries a poison record N times, dead-letters it with reason and origin, and processes the records behind it', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const events = [
      sequencedCaseEvent('case-a', 1),
      sequencedCaseEvent('case-a', 2, { poison: true }),
      sequencedCaseEvent('case-a', 3),
      sequencedCaseEvent('case-a', 4),
    ];
    await bed.publisher.publish(topic, events);
    // A record that is not even JSON: it cannot be retried into shape, so it goes to the DLQ at once.
    const malformed = {
      ...encodeEvent(topics.caseEvents, sequencedCaseEvent('case-a', 5)),
      value: Buffer.from('{oops'),
    };
    await bed.sender.send([{ topic: topic.name, ...malformed }]);
    await bed.publisher.publish(topic, [sequencedCaseEvent('case-a', 6)]);

    await bed.startConsumer({
      subscriptions: [recordEffects(topic, bed.schema, 'single')],
      retry: { maxAttempts: 3, initialDelayMs: 20, multiplier: 2, maxDelayMs: 100 },
    });

    const effects = await waitFor(
      async () => {
        const seqs = await bed.appliedSeqs();
        return seqs.length === 4 ? seqs : undefined;
      },
      { what: 'four effects' },
    );
    expect(effects).toEqual([1, 3, 4, 6]);

    const deadLetters = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 2);
    const [poison, notJson] = deadLetters;
    expect(recordHeader(poison, deadLetterHeaders.reason)).toBe('handler-failed');
    expect(recordHeader(poison, deadLetterHeaders.attempts)).toBe('3');
    expect(recordHeader(poison, deadLetterHeaders.error)).toBe('poison record case-a-2');
    expect(recordHeader(poison, deadLetterHeaders.originTopic)).toBe(topic.name);
    expect(recordHeader(poison, deadLetterHeaders.originPartition)).toBe('0');
    expect(recordHeader(poison, deadLetterHeaders.originOffset)).toBe('1');
    expect(poison?.value).toEqual(encodeEvent(topics.caseEvents, events[1]).value);
    expect(recordHeader(poison, 'ce_id')).toBe('case-a-2');

    expect(recordHeader(notJson, deadLetterHeaders.reason)).toBe('contract-violation');
    expect(recordHeader(notJson, deadLetterHeaders.attempts)).toBe('1');
    expect(recordHeader(notJson, deadLetterHeaders.error)).toMatch(/value: not JSON/);
    expect(recordHeader(notJson, deadLetterHeaders.originOffset)).toBe('4');
    expect(notJson?.value?.toString()).toBe('{oops');
  });

  it('counts a connection error from a service the handler calls as the handler’s failure, not an outage to wait out', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    await bed.publisher.publish(topic, [sequencedCaseEvent('case-h', 1), sequencedCaseEvent('case-h', 2)]);
    const effects = recordEffects(topic, bed.schema, 'http');
    await bed.startConsumer({
      subscriptions: [
        subscribe(topic, async (event, context) => {
          if (event.id === 'case-h-1')
            throw new TypeError('fetch failed', {
              cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:443'), { code: 'ECONNREFUSED' }),
            });
          await effects.handler(event, context);
        }),
      ],
      retry: { maxAttempts: 2, initialDelayMs: 20, multiplier: 2, maxDelayMs: 100 },
    });

    const [deadLetter] = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 1);
    expect(recordHeader(deadLetter, deadLetterHeaders.reason)).toBe('handler-failed');
    expect(recordHeader(deadLetter, deadLetterHeaders.attempts)).toBe('2');
    await waitFor(async () => (await bed.appliedEventIds()).filter((id) => id === 'case-h-2').length === 1, {
      what: 'the record behind it',
    });
  });

  it('carries the envelope through Kafka byte for byte', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
    const event = {
      ...sequencedCaseEvent('case-b', 1),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };
    const encoded = encodeEvent(topics.caseEvents, event);
    await bed.publisher.publish(topic, [event]);

    const [received] = await readTopic(bed.kafka, topic.name, 1);
    expect(received?.key?.toString()).toBe('case-b');
    expect(Buffer.compare(received.value!, encoded.value)).toBe(0);
    const headers = Object.fromEntries(
      Object.entries(received.headers ?? {}).map(([k, v]) => [k, v?.toString()]),
    );
    expect(headers).toEqual({ ...encoded.headers, traceparent: event.traceparent });
    expect(
      fromKafkaRecord({ key: received.key, value: received.value, headers: received.headers ?? {} }),
    ).toEqual(event);
  });
});
