// Kafka baseline: raw kafkajs produce→consume against the same traffic through libs/messaging
// (validated envelope, idempotent handling in a Postgres transaction, manual commits).
// Run: npm run bench -- kafka   (starts or reuses the local broker and Postgres)
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { encodeEvent, topics } from '@keel/contracts';
import {
  EventConsumer,
  EventPublisher,
  KafkaRecordSender,
  MessagingSchema,
  OutboxRelay,
  OutboxWriter,
  type RecordSender,
  subscribe,
  subscribeRuns,
} from '@keel/messaging';
import {
  dropSchema,
  effectsTableMigration,
  isolatedTopic,
  schemaDataSource,
  sequencedCaseEvent,
  testKafka,
  uniqueName,
  waitFor,
} from '@keel/testing';
import type { DataSource } from 'typeorm';
import { figures, printFigures, processCpuSeconds, type RunFigures, saveFigures } from './bench-stats';

const messageCount = Number(process.env.BENCH_MESSAGES ?? 20_000);
const batchSize = 100;
const cases = 500;
const sentAtHeader = 'bench_sent_at';
/** Burst: produce as fast as the broker acknowledges (throughput). Paced: a rate below capacity (latency). */
type Mode = { kind: 'burst' } | { kind: 'paced'; perSecond: number };
const pacedRate = Number(process.env.BENCH_PACED_RATE ?? 500);
const pacedMessages = Number(process.env.BENCH_PACED_MESSAGES ?? 5_000);
/** Consumer knobs to try other settings than the library's defaults (unset: the defaults, as services run). */
const consumerTuning = {
  ...(process.env.BENCH_RECORDS_PER_TRANSACTION
    ? { recordsPerTransaction: Number(process.env.BENCH_RECORDS_PER_TRANSACTION) }
    : {}),
  ...(process.env.BENCH_COMMIT_EVERY_RECORDS
    ? { commitEveryRecords: Number(process.env.BENCH_COMMIT_EVERY_RECORDS) }
    : {}),
  ...(process.env.BENCH_PARTITIONS_CONCURRENTLY
    ? { partitionsConsumedConcurrently: Number(process.env.BENCH_PARTITIONS_CONCURRENTLY) }
    : {}),
};

/** This process's CPU (producer, consumer and handlers alike) since `since`, in µs. */
function processCpuUs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return user + system;
}

/** Connections of the bench's pool (`schemaDataSource`'s `max`). */
const poolSize = 10;

/**
 * CPU the Postgres backends of the run's pool have used since they started, in µs (the pool is opened for
 * one run). A statement per pooled connection at once, each holding its connection a moment, names them all.
 */
async function postgresCpuUs(dataSource: DataSource): Promise<number> {
  const held = await Promise.all(
    Array.from({ length: poolSize }, () =>
      dataSource.query<[{ pid: number }]>('SELECT pg_backend_pid() AS pid FROM pg_sleep(0.05)'),
    ),
  );
  let seconds = 0;
  for (const pid of new Set(held.map(([row]) => row.pid))) seconds += processCpuSeconds(pid);
  return seconds * 1e6;
}

const loadText = (): string =>
  loadavg()
    .map((load) => load.toFixed(1))
    .join(' ');

async function pace(mode: Mode, started: number, sent: number): Promise<void> {
  if (mode.kind === 'burst') return;
  const due = started + (sent / mode.perSecond) * 1000;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

function modeLabel(mode: Mode): string {
  return mode.kind === 'burst' ? 'burst' : `paced ${mode.perSecond}/s`;
}

function trafficOf(count: number) {
  return Array.from({ length: count }, (_, i) =>
    sequencedCaseEvent(`case-${i % cases}`, Math.floor(i / cases) + 1),
  );
}

async function rawKafkajs(mode: Mode, count: number): Promise<RunFigures> {
  const events = trafficOf(count);
  const kafka = testKafka();
  const topic = await isolatedTopic(kafka, topics.caseEvents, 6);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: uniqueName('raw'), maxWaitTimeInMs: 50 });
  const latencies: number[] = [];
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: ({ message }) => {
      latencies.push(performance.now() - Number(message.headers?.[sentAtHeader]?.toString()));
      return Promise.resolve();
    },
  });
  const records = events.map((event) => encodeEvent(topics.caseEvents, event));
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (let start = 0; start < records.length; start += batchSize) {
    await pace(mode, started, start);
    const sentAt = String(performance.now());
    await producer.send({
      topic: topic.name,
      acks: -1,
      messages: records.slice(start, start + batchSize).map((record) => ({
        key: record.key,
        value: record.value,
        headers: { ...record.headers, [sentAtHeader]: sentAt },
      })),
    });
  }
  await waitFor(() => latencies.length >= count, { timeoutMs: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = processCpuUs(cpuStart);
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  return {
    ...figures(`raw kafkajs, ${modeLabel(mode)}`, latencies, seconds),
    cpuUsPerMessage: { process: cpuUs / count },
  };
}

/** Per event: a handler per event, one INSERT each. Per run: a run handler, one multi-row INSERT per run. */
type Handling = 'per event' | 'per run';

async function throughMessaging(mode: Mode, count: number, handling: Handling): Promise<RunFigures> {
  const events = trafficOf(count);
  const kafka = testKafka();
  const topic = await isolatedTopic(kafka, topics.caseEvents, 6);
  const schema = uniqueName('bench');
  const dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
  const sender = new KafkaRecordSender(kafka);
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  const consumer = new EventConsumer({
    kafka,
    groupId: uniqueName('keel'),
    dataSource,
    tables: new MessagingSchema(schema),
    deadLetters: sender,
    ...consumerTuning,
    subscriptions: [
      handling === 'per event'
        ? subscribe(topic, async (event, context) => {
            await context.manager.query(
              `INSERT INTO "${schema}".effects (event_id, case_id, seq, consumer) VALUES ($1, $2, $3, 'bench')`,
              [event.id, event.subject, event.data.attributes.seq],
            );
            // Counted after the transaction commits would be truer still; the commit is a few hundred µs.
            latencies.push(performance.now() - (sentAt.get(event.id) ?? Number.NaN));
          })
        : subscribeRuns(topic, async (events, context) => {
            await context.manager.query(
              `INSERT INTO "${schema}".effects (event_id, case_id, seq, consumer)
               SELECT id, case_id, seq, 'bench' FROM unnest($1::text[], $2::text[], $3::int[]) AS e(id, case_id, seq)`,
              [
                events.map((e) => e.id),
                events.map((e) => e.subject),
                events.map((e) => e.data.attributes.seq),
              ],
            );
            const now = performance.now();
            for (const event of events) latencies.push(now - (sentAt.get(event.id) ?? Number.NaN));
          }),
    ],
  });
  await consumer.start();
  const publisher = new EventPublisher(sender);
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (let start = 0; start < events.length; start += batchSize) {
    await pace(mode, started, start);
    const batch = events.slice(start, start + batchSize);
    const now = performance.now();
    for (const event of batch) sentAt.set(event.id, now);
    await publisher.publish(topic, batch);
  }
  await waitFor(() => latencies.length >= count, { timeoutMs: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = processCpuUs(cpuStart);
  const postgresUs = await postgresCpuUs(dataSource);
  await consumer.stop();
  await sender.disconnect();
  await dropSchema(dataSource, schema);
  await dataSource.destroy();
  return {
    ...figures(`libs/messaging ${handling}, ${modeLabel(mode)}`, latencies, seconds),
    cpuUsPerMessage: { process: cpuUs / count, postgres: postgresUs / count },
  };
}

/**
 * How many replicas write the outbox and run a relay on it (every service process runs one): alone, a
 * commit wakes its own relay; with two, one relay leads for as long as its session holds the table's lock
 * (ADR 0025), and a commit in the other replica reaches it by NOTIFY from the follower's relay.
 */
type OutboxReplicas = 1 | 2;
const outboxPollMs = 200; // OUTBOX_POLL_MS's default

interface HopFigures {
  readonly label: string;
  readonly messages: number;
  readonly committedToPublished: number[];
  readonly publishedToConsumed: number[];
  readonly committedToConsumed: number[];
}

/**
 * A record's way through the outbox, paced, one event per transaction (as an API request writes them),
 * the replicas writing in turn: its transaction commits → a relay's send is acknowledged → a consumer's
 * run handler has it.
 */
async function outboxHops(replicas: OutboxReplicas, count: number, perSecond: number): Promise<HopFigures> {
  const events = trafficOf(count + 1);
  const kafka = testKafka();
  const topic = await isolatedTopic(kafka, topics.caseEvents, 6);
  const schema = uniqueName('hops');
  const dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
  const replicaSources = [dataSource, ...(replicas === 2 ? [await schemaDataSource(schema)] : [])];
  const tables = new MessagingSchema(schema);
  const committedAt = new Map<string, number>();
  const publishedAt = new Map<string, number>();
  const consumedAt = new Map<string, number>();
  const sender = new KafkaRecordSender(kafka);
  const timedSender: RecordSender = {
    send: async (records) => {
      await sender.send(records);
      const now = performance.now();
      for (const record of records) publishedAt.set(record.headers['ce_id'] ?? '', now);
    },
  };
  const relays = replicaSources.map(
    (source) =>
      new OutboxRelay({ dataSource: source, tables, sender: timedSender, pollIntervalMs: outboxPollMs }),
  );
  const consumer = new EventConsumer({
    kafka,
    groupId: uniqueName('hops'),
    dataSource,
    tables,
    deadLetters: sender,
    subscriptions: [
      subscribeRuns(topic, (run) => {
        const now = performance.now();
        for (const event of run) consumedAt.set(event.id, now);
        return Promise.resolve();
      }),
    ],
  });
  for (const relay of relays) relay.start();
  await consumer.start();
  const outbox = new OutboxWriter(tables);
  const write = async (event: (typeof events)[number], replica: number) => {
    await replicaSources[replica % replicaSources.length].transaction((manager) =>
      outbox.enqueue(manager, topic, [event]),
    );
    committedAt.set(event.id, performance.now());
  };
  // The first record waits for the group to form; it is not counted.
  const [warmUp, ...measured] = events;
  await write(warmUp, 0);
  await waitFor(() => consumedAt.has(warmUp.id), { timeoutMs: 60_000 });
  const started = performance.now();
  for (const [sent, event] of measured.entries()) {
    await pace({ kind: 'paced', perSecond }, started, sent);
    await write(event, sent);
  }
  await waitFor(() => measured.every((event) => consumedAt.has(event.id)), { timeoutMs: 120_000 });
  await consumer.stop();
  await Promise.all(relays.map((relay) => relay.stop()));
  await sender.disconnect();
  await dropSchema(dataSource, schema);
  await Promise.all(replicaSources.map((source) => source.destroy()));
  const between = (from: Map<string, number>, to: Map<string, number>) =>
    measured.map(({ id }) => (to.get(id) ?? Number.NaN) - (from.get(id) ?? Number.NaN));
  return {
    label: `${replicas === 1 ? 'one replica' : 'two replicas writing in turn'}, ${perSecond}/s`,
    messages: measured.length,
    committedToPublished: between(committedAt, publishedAt),
    publishedToConsumed: between(publishedAt, consumedAt),
    committedToConsumed: between(committedAt, consumedAt),
  };
}

function printHops(rows: readonly HopFigures[]): void {
  const p50p99 = (latencies: number[]) => {
    const { p50Ms, p99Ms } = figures('', latencies, 1);
    return `${p50Ms.toFixed(1)} / ${p99Ms.toFixed(1)}`;
  };
  console.table(
    rows.map((row) => ({
      run: row.label,
      messages: row.messages,
      'commit → published p50 / p99 ms': p50p99(row.committedToPublished),
      'published → consumed p50 / p99 ms': p50p99(row.publishedToConsumed),
      'commit → consumed p50 / p99 ms': p50p99(row.committedToConsumed),
    })),
  );
}

async function main(): Promise<void> {
  const valueBytes = encodeEvent(topics.caseEvents, trafficOf(1)[0]).value.length;
  console.log(
    `Kafka baseline: ~${valueBytes} B JSON value + ce_ headers, 6 partitions, ${cases} keys, batches of ${batchSize}, ` +
      `local single-node broker. Burst: ${messageCount} events; paced: ${pacedMessages} at ${pacedRate}/s. ` +
      `Load average (1, 5, 15 min) before: ${loadText()}.`,
  );
  console.log('raw = kafkajs producer (idempotent, acks=all) → consumer (auto-commit, no effect)');
  console.log(
    'libs/messaging = EventPublisher → EventConsumer (validation, processed ids + effects in one Postgres tx per run, manual commits);',
  );
  console.log(
    '  handler per event: one INSERT per event (subscribe); per run: one multi-row INSERT per run (subscribeRuns)',
  );
  const paced: Mode = { kind: 'paced', perSecond: pacedRate };
  const rawBurst = await rawKafkajs({ kind: 'burst' }, messageCount);
  const keelBurst = await throughMessaging({ kind: 'burst' }, messageCount, 'per event');
  const keelRunsBurst = await throughMessaging({ kind: 'burst' }, messageCount, 'per run');
  const rawPaced = await rawKafkajs(paced, pacedMessages);
  const keelPaced = await throughMessaging(paced, pacedMessages, 'per event');
  const keelRunsPaced = await throughMessaging(paced, pacedMessages, 'per run');
  const rows = [rawBurst, keelBurst, keelRunsBurst, rawPaced, keelPaced, keelRunsPaced];
  printFigures(rows);
  console.log(
    `Load average after: ${loadText()}. CPU µs/msg: process = this bench process (producer, consumer, handlers), ` +
      'postgres = the backends of the run’s own pool (the raw runs use none).',
  );
  saveFigures('kafka-baseline', rows);
  for (const [label, keel] of [
    ['handler per event', keelBurst],
    ['handler per run', keelRunsBurst],
  ] as const)
    console.log(
      `burst throughput ratio libs/messaging (${label}) / raw: ${(keel.perSecond / rawBurst.perSecond).toFixed(3)}`,
    );
  console.log(
    `Outbox hops (relay polling every ${outboxPollMs} ms, OUTBOX_POLL_MS's default; consumer with a run handler):`,
  );
  const hopsRate = Number(process.env.BENCH_HOPS_RATE ?? 100);
  const hopsMessages = Number(process.env.BENCH_HOPS_MESSAGES ?? 1_000);
  printHops([await outboxHops(1, hopsMessages, hopsRate), await outboxHops(2, hopsMessages, hopsRate)]);
  for (const [label, keel] of [
    ['handler per event', keelPaced],
    ['handler per run', keelRunsPaced],
  ] as const)
    console.log(
      `paced p50 latency ratio libs/messaging (${label}) / raw: ${(keel.p50Ms / rawPaced.p50Ms).toFixed(2)}`,
    );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
