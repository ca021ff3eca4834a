import { decodeEvent, encodeEvent, topics } from '@keel/contracts';
import { bundledSources, SourceCatalog } from '@keel/ingestion-domain';
import { Registry } from 'prom-client';
import { IngestionError } from '../ingestion.error';
import { IngestionMetrics } from '../ingestion.metrics';
import { HttpSubmissions } from './http-submissions';
import { InMemoryIngestionStore } from './in-memory-ports.fixture';
import { SourceEventIngestor } from './source-event.ingestor';

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
    address: { country: 'DE', postalCode: '1', city: 'Berlin' },
    lines: [{ sku: 's', quantity: 1 }],
  },
});
const article = {
  tenant: 'acme',
  system: 'knowledge-base',
  eventType: 'article.published',
  schemaVersion: 1,
  payload: {
    articleId: 'kb-1',
    revision: 1,
    title: 'Returns',
    body: 'Return within 30 days.',
    format: 'markdown',
  },
};

function setUp() {
  const store = new InMemoryIngestionStore();
  const ingestor = new SourceEventIngestor({
    catalog: new SourceCatalog(bundledSources, { maxPayloadDepth: 8 }),
    keys: store.idempotencyKeys,
    topics,
    source: 'urn:keel:ingestion',
    now: () => new Date('2026-12-01T10:00:00Z'),
  });
  const registry = new Registry();
  const time = { now: 0 };
  return {
    store,
    registry,
    /** Lets time pass: a wait the outbox shows can grow only as fast as time goes. */
    advance: (ms: number) => {
      time.now += ms;
    },
    submissions: new HttpSubmissions(
      ingestor,
      store,
      store.backlog,
      new IngestionMetrics(registry),
      { maxBatchEvents: 3, maxPublishLagMs: 1_000 },
      () => time.now,
    ),
  };
}

describe('HttpSubmissions over SourceEventIngestor', () => {
  it('accepts an event once: its key and its envelope on the outbox, then answers a resend as a duplicate', async () => {
    const { store, submissions } = setUp();

    const first = await submissions.submit(order('e-1'), { correlationId: 'corr-1' });
    const resent = await submissions.submit(order('e-1', 'A-changed'), { correlationId: undefined });

    expect(first).toEqual({
      kind: 'single',
      result: {
        outcome: 'accepted',
        eventId: expect.stringMatching(/^[0-9a-f]{64}$/),
        subject: 'order-A-1',
        topic: 'keel.cases.events.v1',
      },
    });
    expect(resent).toEqual({
      kind: 'single',
      result: { ...(first.kind === 'single' && first.result), outcome: 'duplicate' },
    });
    expect(store.outbox).toHaveLength(1);
    const [{ event }] = store.outbox;
    expect(event).toMatchObject({
      source: 'urn:keel:ingestion',
      type: 'keel.case.order',
      subject: 'order-A-1',
      tenant: 'acme',
      correlationid: 'corr-1',
      idempotencykey: 'acme/order-system/e-1',
      time: '2026-12-01T10:00:00.000Z',
    });
    // What the relay will publish satisfies the topic's contract.
    expect(
      decodeEvent(topics.caseEvents, { ...encodeEvent(topics.caseEvents, event as never) }).data,
    ).toEqual(event.data);
  });

  it('refuses a bad single event whole, naming the field, and keeps nothing', async () => {
    const { store, submissions } = setUp();
    const { weightKg: _dropped, ...payload } = order('e-1').payload;

    const attempt = submissions.submit({ ...order('e-1'), payload }, { correlationId: undefined });

    await expect(attempt).rejects.toThrow(IngestionError);
    await expect(attempt).rejects.toMatchObject({
      code: 'invalid-payload',
      httpStatus: 422,
      violations: [{ path: 'payload.weightKg', message: expect.any(String) }],
    });
    await expect(
      submissions.submit({ system: 'order-system' }, { correlationId: undefined }),
    ).rejects.toMatchObject({
      code: 'invalid-request',
      httpStatus: 400,
      violations: expect.arrayContaining([expect.objectContaining({ path: 'tenant' })]),
    });
    expect([store.keys.size, store.outbox.length]).toEqual([0, 0]);
  });

  it('answers a batch item by item, in order, and accepts the good ones (a document too)', async () => {
    const { store, submissions } = setUp();

    const answer = await submissions.submit(
      { events: [order('e-1'), { tenant: 'acme' }, article] },
      { correlationId: undefined },
    );

    expect(answer).toEqual({
      kind: 'batch',
      results: [
        expect.objectContaining({ index: 0, outcome: 'accepted', subject: 'order-A-1' }),
        expect.objectContaining({
          index: 1,
          outcome: 'rejected',
          error: 'invalid-request',
          violations: expect.arrayContaining([expect.objectContaining({ path: 'system' })]),
        }),
        expect.objectContaining({
          index: 2,
          outcome: 'accepted',
          subject: 'kb-1',
          topic: 'keel.knowledge.documents.v1',
        }),
      ],
    });
    expect(store.outbox.map((row) => row.topic)).toEqual([
      'keel.cases.events.v1',
      'keel.knowledge.documents.v1',
    ]);
  });

  it('treats the same source event twice in one batch as one acceptance and one duplicate', async () => {
    const { store, submissions } = setUp();

    const answer = await submissions.submit(
      { events: [order('e-1'), order('e-1')] },
      { correlationId: undefined },
    );

    expect(answer.kind === 'batch' && answer.results.map((result) => result.outcome)).toEqual([
      'accepted',
      'duplicate',
    ]);
    expect(store.outbox).toHaveLength(1);
  });

  it('refuses a batch larger than the limit, naming events', async () => {
    const { submissions } = setUp();
    const events = ['a', 'b', 'c', 'd'].map((id) => order(id));

    await expect(submissions.submit({ events }, { correlationId: undefined })).rejects.toMatchObject({
      code: 'invalid-request',
      violations: [expect.objectContaining({ path: 'events' })],
    });
  });

  it('answers publishing-stalled (503) while the outbox is not drained, accepting nothing', async () => {
    const { store, submissions } = setUp();
    store.oldestWaitMs = 1_001;

    await expect(submissions.submit(order('e-1'), { correlationId: undefined })).rejects.toMatchObject({
      code: 'publishing-stalled',
      httpStatus: 503,
      consumerHandling: 'retry',
    });
    expect(store.keys.size).toBe(0);

    store.oldestWaitMs = 999;
    await expect(submissions.submit(order('e-1'), { correlationId: undefined })).resolves.toMatchObject({
      result: { outcome: 'accepted' },
    });
  });

  it('reads the outbox again only once the wait it last read could have grown past half the limit', async () => {
    const { store, advance, submissions } = setUp();
    let reads = 0;
    const read = store.backlog.oldestWaitMs.bind(store.backlog);
    store.backlog.oldestWaitMs = (manager) => {
      reads += 1;
      return read(manager);
    };
    store.oldestWaitMs = 200;

    await submissions.submit(order('e-1'), { correlationId: undefined });
    advance(300);
    await submissions.submit(order('e-2'), { correlationId: undefined });
    expect(reads).toBe(1);

    // 200 ms then + 301 ms since: the oldest may now have waited past 500 ms, so it is read again.
    advance(1);
    store.oldestWaitMs = 1_001;
    await expect(submissions.submit(order('e-3'), { correlationId: undefined })).rejects.toMatchObject({
      code: 'publishing-stalled',
    });
    expect(reads).toBe(2);
  });

  it('refuses a correlation id the envelope cannot carry', async () => {
    const { submissions } = setUp();

    await expect(submissions.submit(order('e-1'), { correlationId: 'x'.repeat(201) })).rejects.toMatchObject({
      code: 'invalid-request',
      violations: [expect.objectContaining({ path: 'x-correlation-id' })],
    });
  });

  it('counts every event by transport, outcome and reason', async () => {
    const { store, registry, advance, submissions } = setUp();
    await submissions.submit(
      { events: [order('e-1'), order('e-1'), { tenant: 'acme' }] },
      { correlationId: undefined },
    );
    await submissions
      .submit({ ...order('e-2'), schemaVersion: 7 }, { correlationId: undefined })
      .catch(() => undefined);
    advance(5_000);
    store.oldestWaitMs = 5_000;
    await submissions
      .submit({ events: [order('e-3'), order('e-4')] }, { correlationId: undefined })
      .catch(() => undefined);

    const counted = (await registry.getSingleMetric('keel_ingestion_events_total')?.get())?.values.map(
      ({ labels, value }) => `${labels.outcome}:${labels.reason || '-'}=${value}`,
    );
    expect(counted?.sort()).toEqual([
      'accepted:-=1',
      'duplicate:-=1',
      'refused:publishing-stalled=2',
      'rejected:invalid-request=1',
      'rejected:unknown-schema-version=1',
    ]);
  });
});
