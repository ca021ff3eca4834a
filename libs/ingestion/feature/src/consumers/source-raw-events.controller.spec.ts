import { buildEvent, topics } from '@keel/contracts';
import { bundledSources, SourceCatalog } from '@keel/ingestion-domain';
import { type KafkaEventContext } from '@keel/messaging';
import { Registry } from 'prom-client';
import { InMemoryIngestionStore } from '../application/in-memory-ports.fixture';
import { SourceEventIngestor } from '../application/source-event.ingestor';
import { IngestionMetrics } from '../ingestion.metrics';
import { SourceRawEventsController } from './source-raw-events.controller';

const rawEvent = (payload: Record<string, unknown>) =>
  buildEvent(topics.sourceRaw, {
    id: 'raw-1',
    source: 'urn:test',
    type: 'keel.source.raw',
    time: '2026-12-01T10:00:00Z',
    subject: 'acme/exception-feed',
    tenant: 'acme',
    correlationid: 'corr-1',
    idempotencykey: 'raw-1',
    data: { system: 'exception-feed', eventType: 'exception.raised', schemaVersion: 1, payload },
  });
const exception = {
  alertId: 'al-1',
  exceptionId: 'X-1',
  orderId: 'A-1',
  kind: 'stock-out',
  severity: 'high',
  detectedAt: '2026-11-30T09:00:00Z',
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
  const controller = new SourceRawEventsController(ingestor, new IngestionMetrics(new Registry()));
  // The consumer's transaction: the in-memory store commits what the handler wrote when it returns.
  const consume = (event: ReturnType<typeof rawEvent>) =>
    store.run((manager) => controller.onSourceEvent(event, { manager } as KafkaEventContext));
  return { store, consume };
}

describe('SourceRawEventsController', () => {
  it('ingests a raw record in the consumer transaction, carrying its correlation and causation', async () => {
    const { store, consume } = setUp();

    await consume(rawEvent(exception));

    expect(store.outbox.map(({ event }) => [event.subject, event.correlationid, event.causationid])).toEqual([
      ['exception-X-1', 'corr-1', 'raw-1'],
    ]);
  });

  it('dead-letters a record that can never be accepted, naming the field', async () => {
    const { store, consume } = setUp();
    const { severity: _dropped, ...payload } = exception;

    await expect(consume(rawEvent(payload))).rejects.toMatchObject({
      code: 'invalid-payload',
      consumerHandling: 'dead-letter',
      message: expect.stringMatching(/payload\.severity/),
    });
    expect(store.outbox).toHaveLength(0);
  });

  it('is not held back by the outbox lag that makes the API answer 503: a valid record must not end on the DLQ', async () => {
    const { store, consume } = setUp();
    store.oldestWaitMs = 60_000;

    await consume(rawEvent(exception));

    expect(store.outbox).toHaveLength(1);
  });
});
