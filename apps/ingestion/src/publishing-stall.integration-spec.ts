import { FaultProxy, readTopic, testKafka, testKafkaBrokers, waitFor } from '@keel/testing';
import { Client } from 'pg';
import { IngestionProcess } from '../../../test/e2e/fixtures/ingestion-service.process';

const ticket = (eventId: string, ticketId: string) => ({
  tenant: 'acme',
  system: 'support-desk',
  eventType: 'ticket.created',
  schemaVersion: 1,
  payload: {
    event: { id: eventId, at: '2026-11-30T09:00:00Z' },
    ticket: {
      id: ticketId,
      subject: 'Where is my parcel?',
      priority: 'high',
      channel: 'email',
      customer: { id: 'c-1' },
    },
  },
});

async function oldestOutboxWaitMs(url: string): Promise<number | undefined> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ wait_ms: number }>(
      `SELECT (EXTRACT(EPOCH FROM clock_timestamp() - created_at) * 1000)::float8 AS wait_ms
       FROM ingestion.outbox WHERE published_at IS NULL ORDER BY id LIMIT 1`,
    );
    return rows[0]?.wait_ms;
  } finally {
    await client.end();
  }
}

/**
 * Kafka unreachable from the start (a proxy that refuses every connection is the service's only broker
 * address): what was accepted waits in the outbox, new events are refused with 503 once it waits longer than
 * the allowed lag, and once the broker is reachable the backlog is published and events are accepted again.
 * The rate limit is checked on the same process.
 */
describe('ingestion while Kafka cannot take events', () => {
  let broker: FaultProxy;
  let service: IngestionProcess;

  beforeAll(async () => {
    const [address] = testKafkaBrokers;
    broker = await FaultProxy.inFrontOf(address ?? '127.0.0.1:9092');
    broker.refuse();
    service = await IngestionProcess.start({
      KAFKA_BROKERS: `${broker.host}:${broker.port}`,
      INGESTION_MAX_PUBLISH_LAG_MS: '300',
      INGESTION_RATE_LIMIT: '6',
      INGESTION_RATE_WINDOW_MS: '600000',
    });
  });

  afterAll(async () => {
    await service?.stop();
    await broker?.close();
  });

  it('answers 503 instead of piling up, loses nothing it accepted, and recovers', async () => {
    const first = await service.post(ticket('s-1', 'S-1'));
    expect(first).toMatchObject({ status: 202, body: { outcome: 'accepted', subject: 'ticket-S-1' } });

    await waitFor(async () => ((await oldestOutboxWaitMs(service.database.url)) ?? 0) > 300, {
      what: 'the accepted event to wait past the allowed lag',
    });
    const refused = await service.post(ticket('s-2', 'S-2'));
    expect(refused).toMatchObject({ status: 503, body: { error: 'publishing-stalled' } });
    expect(refused.headers.get('retry-after')).toBe('5');

    broker.heal();
    const published = await readTopic(
      testKafka(),
      service.topics.caseEvents.name,
      1,
      (message) => message.key?.toString() === 'ticket-S-1',
    );
    expect(published).toHaveLength(1);
    await waitFor(async () => (await oldestOutboxWaitMs(service.database.url)) === undefined, {
      what: 'the outbox to drain',
    });
    expect(await service.post(ticket('s-2', 'S-2'))).toMatchObject({ status: 202 });
  });

  it('limits the requests of one client per window with 429 and a reason', async () => {
    const statuses: number[] = [];
    let limited: { status: number; body: unknown } | undefined;
    for (let attempt = 0; attempt < 10 && !limited; attempt++) {
      const answer = await service.post(ticket(`rl-${attempt}`, `R-${attempt}`));
      statuses.push(answer.status);
      if (answer.status === 429) limited = answer;
    }

    expect(limited).toMatchObject({
      status: 429,
      body: { error: 'rate-limited', message: expect.any(String) },
    });
    // Six requests per window in all: the earlier test made three of them.
    expect(statuses).toEqual([202, 202, 202, 429]);
  });
});
