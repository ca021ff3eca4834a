// Ingestion throughput: source events through the ingestion service (a real process) on the local broker and
// Postgres — admitted, key claimed and outbox row written in one transaction, then published by the relay.
// Batches of 100 over HTTP (the CLI's default), and single events from 8 concurrent senders; each run ends when
// every accepted event is on keel.cases.events.v1. Printed beside the Kafka baseline when it ran first.
// Run: npm run bench -- ingestion
import { performance } from 'node:perf_hooks';
import { HttpIngestionClient, type NumberedEvent } from '@keel/ingestion-client';
import { waitFor } from '@keel/testing';
import { Client } from 'pg';
import { IngestionProcess } from '../test/e2e/fixtures/ingestion-service.process';
import { figures, loadFigures, printFigures, type RunFigures } from './bench-stats';

const batchedEvents = Number(process.env.BENCH_EVENTS ?? 5_000);
const singleEvents = Number(process.env.BENCH_SINGLE_EVENTS ?? 1_000);
const senders = 8;

function orderEvents(prefix: string, count: number): NumberedEvent[] {
  return Array.from({ length: count }, (_, n) => ({
    line: n + 1,
    event: {
      tenant: 'bench',
      system: 'order-system',
      eventType: 'order.placed',
      schemaVersion: 1,
      payload: {
        eventId: `${prefix}-${n}`,
        orderId: `${prefix}-${n % 500}`,
        occurredAt: new Date().toISOString(),
        customerId: `c-${n % 50}`,
        region: ['EU', 'US', 'APAC'][n % 3],
        weightKg: 1 + (n % 20),
        address: { country: 'DE', postalCode: '10115', city: 'Berlin' },
        lines: [{ sku: `sku-${n % 40}`, quantity: 1 + (n % 3) }],
      },
    },
  }));
}

async function unpublished(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ingestion.outbox WHERE published_at IS NULL',
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

async function run(
  service: IngestionProcess,
  label: string,
  batches: NumberedEvent[][],
  concurrency: number,
): Promise<RunFigures> {
  const client = new HttpIngestionClient({ url: service.url });
  const latencies: number[] = [];
  const started = performance.now();
  let accepted = 0;
  const queue = [...batches];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        const sent = performance.now();
        const results = await client.send(batch);
        latencies.push(performance.now() - sent);
        accepted += results.filter((result) => result.outcome === 'accepted').length;
      }
    }),
  );
  await waitFor(async () => (await unpublished(service.database.url)) === 0, {
    timeoutMs: 600_000,
    intervalMs: 50,
  });
  const seconds = (performance.now() - started) / 1000;
  const expected = batches.reduce((sum, batch) => sum + batch.length, 0);
  if (accepted !== expected) throw new Error(`${label}: ${accepted} of ${expected} accepted`);
  // Figures per event; latency per request (a batch or one event), accepted → answered.
  return { ...figures(label, latencies, seconds), messages: expected, perSecond: expected / seconds };
}

async function main(): Promise<void> {
  const service = await IngestionProcess.start({ INGESTION_RATE_LIMIT: '1000000' });
  try {
    const events = orderEvents('batched', batchedEvents);
    const batches = Array.from({ length: Math.ceil(events.length / 100) }, (_, n) =>
      events.slice(n * 100, n * 100 + 100),
    );
    const rows = [
      await run(
        service,
        `HTTP batches of 100, 1 sender (${batchedEvents} events, until published)`,
        batches,
        1,
      ),
      await run(
        service,
        `HTTP single events, ${senders} senders (${singleEvents} events, until published)`,
        orderEvents('single', singleEvents).map((event) => [event]),
        senders,
      ),
    ];
    printFigures([...(loadFigures('kafka') ?? []), ...rows]);
  } finally {
    await service.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
