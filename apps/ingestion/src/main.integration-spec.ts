import {
  buildEvent,
  type CaseEvent,
  deadLetterTopicName,
  decodeEvent,
  type KafkaRecord,
  type SourceRawEvent,
} from '@keel/contracts';
import { deadLetterHeaders, EventPublisher, KafkaRecordSender } from '@keel/messaging';
import { FaultProxy, readTopic, testDatabaseUrl, testKafka, waitFor } from '@keel/testing';
import type { KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { IngestionProcess } from '../../../test/e2e/fixtures/ingestion-service.process';

const order = (eventId: string, orderId = 'A-1') => ({
  tenant: 'acme',
  system: 'order-system',
  eventType: 'order.placed',
  schemaVersion: 1,
  payload: {
    eventId,
    orderId,
    occurredAt: '2026-11-30T09:00:00Z',
    customerId: 'c-1',
    region: 'EU',
    weightKg: 2,
    address: { country: 'DE', postalCode: '10115', city: 'Berlin' },
    lines: [{ sku: 'sku-1', quantity: 1 }],
  },
});

const asRecord = (message: KafkaMessage) => message as unknown as KafkaRecord;
const headerOf = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();

async function rows<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('ingestion service (a process) on real Kafka and Postgres', () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  let postgres: FaultProxy;
  let service: IngestionProcess;

  beforeAll(async () => {
    postgres = await FaultProxy.inFrontOf(testDatabaseUrl);
    service = await IngestionProcess.start(
      { INGESTION_MAX_BODY_BYTES: '65536', INGESTION_MAX_PAYLOAD_DEPTH: '4' },
      { postgres },
    );
  });

  afterAll(async () => {
    await service?.stop();
    await postgres?.close();
    await sender.disconnect();
  });

  const caseEventsOf = async (expected: number, caseId: string) =>
    (
      await readTopic(kafka, service.topics.caseEvents.name, expected, (m) => m.key?.toString() === caseId)
    ).map((message) => decodeEvent(service.topics.caseEvents, asRecord(message)));

  it('accepts an event once, publishes its case event, and answers a resend as a duplicate', async () => {
    const accepted = await service.post(order('http-1', 'H-1'), { 'x-correlation-id': 'corr-h1' });
    const resent = await service.post(order('http-1', 'H-1'));

    expect(accepted).toMatchObject({
      status: 202,
      body: { outcome: 'accepted', subject: 'order-H-1', topic: service.topics.caseEvents.name },
    });
    expect(resent).toMatchObject({ status: 200, body: { ...accepted.body, outcome: 'duplicate' } });
    const [event] = await caseEventsOf(1, 'order-H-1');
    expect(event).toMatchObject({
      id: accepted.body.eventId,
      tenant: 'acme',
      correlationid: 'corr-h1',
      idempotencykey: 'acme/order-system/http-1',
      data: {
        caseId: 'order-H-1',
        caseType: 'order',
        attributes: { orderId: 'H-1' },
      } satisfies Partial<CaseEvent>,
    });
    expect(
      await rows(service.database.url, `SELECT key FROM ingestion.idempotency_keys WHERE key LIKE '%http-1'`),
    ).toHaveLength(1);
  });

  it('answers a batch per item, each rejection naming its field', async () => {
    const { weightKg: _dropped, ...payload } = order('b-2').payload;
    const answer = await service.post({
      events: [order('b-1', 'B-1'), { ...order('b-2'), payload }, { ...order('b-3'), system: 'erp' }],
    });

    expect(answer.status).toBe(207);
    expect(answer.body).toMatchObject({
      accepted: 1,
      duplicates: 0,
      rejected: 2,
      results: [
        { index: 0, outcome: 'accepted' },
        {
          index: 1,
          outcome: 'rejected',
          error: 'invalid-payload',
          violations: [{ path: 'payload.weightKg' }],
        },
        { index: 2, outcome: 'rejected', error: 'unknown-source', violations: [{ path: 'system' }] },
      ],
    });
  });

  it('refuses bad requests with 4xx and a reason: field, depth, body size', async () => {
    const missing = await service.post({ ...order('r-1'), schemaVersion: 'one' });
    const deep = await service.post({
      ...order('r-2'),
      payload: { ...order('r-2').payload, a: { b: { c: { d: { e: 1 } } } } },
    });
    const huge = await service.post(JSON.stringify({ ...order('r-3'), padding: 'x'.repeat(70_000) }));

    expect(missing).toMatchObject({
      status: 400,
      body: { error: 'invalid-request', violations: [{ path: 'schemaVersion' }] },
    });
    expect(deep).toMatchObject({
      status: 400,
      body: { error: 'payload-too-deep', violations: [{ path: 'payload.a.b.c.d' }] },
    });
    expect(huge).toMatchObject({ status: 413, body: { error: 'body-too-large' } });
    expect(await service.post('{"tenant":')).toMatchObject({
      status: 400,
      body: { error: 'invalid-request' },
    });
  });

  it('serves its OpenAPI document', async () => {
    const document = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };

    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/sources']));
    expect(JSON.stringify(document.paths['/v1/events']?.post?.requestBody)).toContain('schemaVersion');
  });

  it('counts events by transport, outcome and reason on /metrics', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();

    expect(metrics).toMatch(
      /^keel_ingestion_events_total\{[^}]*transport="http",outcome="accepted",reason=""[^}]*\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^keel_ingestion_events_total\{[^}]*outcome="rejected",reason="invalid-payload"[^}]*\} [1-9]/m,
    );
  });

  it('ingests raw records from Kafka and dead-letters the ones it can never accept, with the reason', async () => {
    const publisher = new EventPublisher(sender);
    const raw = (id: string, data: SourceRawEvent) =>
      buildEvent(service.topics.sourceRaw, {
        id,
        source: 'urn:test:order-system',
        type: 'keel.source.raw',
        time: new Date().toISOString(),
        subject: 'order-K-1',
        tenant: 'acme',
        correlationid: `corr-${id}`,
        idempotencykey: id,
        data,
      });
    const { tenant: _tenant, ...good } = order('kafka-1', 'K-1');
    const { weightKg: _weight, ...payload } = good.payload;
    await publisher.publish(service.topics.sourceRaw, [
      raw('raw-good', good),
      raw('raw-bad', { ...good, payload }),
      raw('raw-unknown', { ...good, system: 'erp' }),
    ]);

    const [event] = await caseEventsOf(1, 'order-K-1');
    expect(event).toMatchObject({
      causationid: 'raw-good',
      correlationid: 'corr-raw-good',
      data: { caseId: 'order-K-1' },
    });
    // Each dead letter names the rejection's own code (`keel_dlq_code`) and its fields in the error text.
    const deadLetters = await readTopic(kafka, deadLetterTopicName(service.topics.sourceRaw.name), 2);
    const byId = new Map(deadLetters.map((message) => [headerOf(message, 'ce_id'), message]));
    const invalid = byId.get('raw-bad');
    const unknown = byId.get('raw-unknown');
    if (!invalid || !unknown) throw new Error(`dead letters: ${[...byId.keys()].join(', ')}`);
    expect(headerOf(invalid, deadLetterHeaders.reason)).toBe('non-retryable');
    expect(headerOf(invalid, deadLetterHeaders.code)).toBe('invalid-payload');
    expect(headerOf(invalid, deadLetterHeaders.error)).toMatch(
      /^payload does not satisfy order-system@1 .*payload\.weightKg/,
    );
    expect(headerOf(unknown, deadLetterHeaders.code)).toBe('unknown-source');
    expect(headerOf(unknown, deadLetterHeaders.error)).toMatch(
      /no source schema for system 'erp' \(system: unknown system/,
    );
  });

  it('answers 503 with Retry-After while Postgres is unreachable, and accepts again once it is back', async () => {
    postgres.refuse();
    postgres.cut();
    try {
      const refused = await service.post(order('pg-1', 'P-1'));

      expect(refused).toMatchObject({ status: 503, body: { error: 'store-unavailable' } });
      expect(refused.headers.get('retry-after')).toBe('5');
    } finally {
      postgres.heal();
    }
    const accepted = await waitFor(
      async () => {
        const answer = await service.post(order('pg-1', 'P-1'));
        return answer.status === 202 ? answer : undefined;
      },
      { intervalMs: 500, what: 'ingestion accepting again' },
    );
    expect(accepted.body).toMatchObject({ outcome: 'accepted', subject: 'order-P-1' });
    expect(await caseEventsOf(1, 'order-P-1')).toHaveLength(1);
  });
});
