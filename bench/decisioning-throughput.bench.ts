// Decisioning throughput: case events through the decisioning service (a real process, offline planner, no
// retrieval) on the local broker and Postgres. The consumer's transaction remembers the event and queues its
// trigger (one statement); the decision worker reads queued triggers with their case history (one query per
// batch), decides outside any transaction and publishes each group in one transaction (decision rows, outbox
// rows, queue rows); the records then leave through the outbox relay. A burst gives the capacity; a paced run
// at half the target gives event→decision latency without queueing.
// Latency = the case event published → its decision record read back from keel.decisions.v1.
// Run: npm run bench -- decisioning   (BENCH_DECISIONS, BENCH_PACED_RATES, BENCH_PACED_SECONDS;
// BENCH_REPLICAS=<n> runs n service processes, which split the queue's shards, and prints each one's decisions;
// BENCH_CPU_PROF_DIR=<dir> writes each service's V8 CPU profile there when it stops)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CaseEvent, buildEvent, namespacedTopics } from '@keel/contracts';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import {
  type TestProcess,
  scratchDatabase,
  startTsProcess,
  testKafka,
  testKafkaBrokers,
  testTopicScope,
  waitFor,
  freePort,
  metricSum,
} from '@keel/testing';
import { type RunFigures, figures, loadFigures, printFigures } from './bench-stats';

const burstDecisions = Number(process.env.BENCH_DECISIONS ?? 3_000);
// 250/s is half the target; a low rate shows the latency of one decision when nothing queues.
const pacedRates = (process.env.BENCH_PACED_RATES ?? '250,50').split(',').map(Number);
const pacedSeconds = Number(process.env.BENCH_PACED_SECONDS ?? 10);
const replicas = Number(process.env.BENCH_REPLICAS ?? 1);
if (!Number.isInteger(replicas) || replicas < 1)
  throw new RangeError(`BENCH_REPLICAS must be a positive integer, not ${process.env.BENCH_REPLICAS}`);

const namespace = testTopicScope('e2e');
const topics = namespacedTopics(namespace);
const kafka = testKafka();
const sender = new KafkaRecordSender(kafka);
const publisher = new EventPublisher(sender);

/** The three use cases in turn, each event a case of its own (spread over the partitions). */
function caseEvent(run: string, n: number): CaseEvent {
  const caseId = `${run}-${n}`;
  const base = {
    occurredAt: new Date().toISOString(),
    source: { system: 'bench', eventId: caseId, schemaVersion: 1 },
  };
  switch (n % 3) {
    case 0:
      return {
        ...base,
        caseId,
        caseType: 'order',
        eventType: 'order.created',
        attributes: {
          orderId: caseId,
          lines: [{ sku: 'a', qty: 1 }],
          weightKg: 12,
          region: 'US',
          address: 'Boston',
        },
      };
    case 1:
      return {
        ...base,
        caseId,
        caseType: 'exception',
        eventType: 'exception.raised',
        attributes: { exceptionId: caseId, orderId: `o-${n}`, reason: 'damaged' },
      };
    default:
      return {
        ...base,
        caseId,
        caseType: 'support',
        eventType: 'ticket.created',
        attributes: { ticketId: caseId, priority: 'high', customerId: `c-${n}`, skills: ['billing'] },
      };
  }
}

function envelope(data: CaseEvent) {
  const id = `${namespace}-${data.caseId}`;
  return buildEvent(topics.caseEvents, {
    id,
    source: 'urn:keel:bench',
    type: 'keel.case.bench',
    time: new Date().toISOString(),
    subject: data.caseId,
    tenant: 'acme',
    correlationid: data.caseId,
    idempotencykey: id,
    data,
  });
}

const metricsUrl = (port: number) => `http://127.0.0.1:${port}/metrics`;

/** Mean duration per call of each timed port and of the consumer's handling, from the services' /metrics. */
async function portTimings(
  ports: readonly number[],
): Promise<Array<{ what: string; calls: number; 'mean ms': string }>> {
  const texts = await Promise.all(ports.map(async (port) => (await fetch(metricsUrl(port))).text()));
  const totals = new Map<string, { sum: number; count: number }>();
  for (const line of texts.join('\n').split('\n')) {
    const match =
      /^(keel_port_call_duration_seconds|keel_message_handle_duration_seconds)_(sum|count)\{([^}]*)\} (\S+)$/.exec(
        line,
      );
    if (!match) continue;
    const labels = Object.fromEntries([...match[3].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const what = labels.port ? `${labels.port}.${labels.method}` : `consumer ${labels.topic ?? ''}`;
    const entry = totals.get(what) ?? { sum: 0, count: 0 };
    if (match[2] === 'sum') entry.sum += Number(match[4]);
    else entry.count += Number(match[4]);
    totals.set(what, entry);
  }
  return [...totals]
    .filter(([, { count }]) => count > 0)
    .map(([what, { sum, count }]) => ({ what, calls: count, 'mean ms': ((sum / count) * 1000).toFixed(2) }));
}

/** Decision records each replica published, and the queue shards it holds now (its own /metrics). */
async function replicaShares(
  ports: readonly number[],
): Promise<Array<{ replica: number; decisions: number; shards: number }>> {
  return Promise.all(
    ports.map(async (port, replica) => {
      const text = await (await fetch(metricsUrl(port))).text();
      return {
        replica,
        decisions: metricSum(text, 'keel_decisioning_decisions_total'),
        shards: metricSum(text, 'keel_decisioning_queue_shards'),
      };
    }),
  );
}

/** The service as a process; with BENCH_CPU_PROF_DIR, under V8's CPU profiler (not allowed in NODE_OPTIONS). */
function startService(entry: string, env: Record<string, string>): Pick<TestProcess, 'output' | 'kill'> {
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  if (!profileDir) return startTsProcess(entry, env);
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '-r', join(process.cwd(), 'tools/register.js'), entry],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => output,
    kill: async (signal) => {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Publish times by event id, and decision arrival times by the event id they were caused by. */
const publishedAt = new Map<string, number>();
const decidedAt = new Map<string, number>();

async function run(label: string, prefix: string, count: number, perSecond?: number): Promise<RunFigures> {
  const started = performance.now();
  const batchSize = perSecond ? Math.max(1, Math.round(perSecond / 100)) : 500;
  const ids: string[] = [];
  for (let n = 0; n < count; n += batchSize) {
    if (perSecond) {
      const wait = started + (n / perSecond) * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const events = Array.from({ length: Math.min(batchSize, count - n) }, (_, i) =>
      envelope(caseEvent(prefix, n + i)),
    );
    const now = performance.now();
    for (const event of events) {
      publishedAt.set(event.id, now);
      ids.push(event.id);
    }
    await publisher.publish(topics.caseEvents, events);
  }
  await waitFor(() => ids.every((id) => decidedAt.has(id)), {
    timeoutMs: 600_000,
    intervalMs: 50,
    what: `${label}: ${count} decisions`,
  });
  const last = Math.max(...ids.map((id) => decidedAt.get(id) ?? 0));
  const latencies = ids.map((id) => (decidedAt.get(id) ?? 0) - (publishedAt.get(id) ?? 0));
  return figures(label, latencies, (last - started) / 1000);
}

async function main(): Promise<void> {
  const database = await scratchDatabase('keel_decisioning_bench');
  await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
  const ports: number[] = [];
  for (let replica = 0; replica < replicas; replica += 1) ports.push(await freePort());
  const services = ports.map((port) =>
    startService('apps/decisioning/src/main.ts', {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      KEEL_TOPIC_NAMESPACE: namespace,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      OUTBOX_POLL_MS: '20',
    }),
  );
  const reader = kafka.consumer({ groupId: `${namespace}.bench-reader`, maxWaitTimeInMs: 20 });
  try {
    for (const [replica, port] of ports.entries())
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok,
        { what: `decisioning replica ${replica} ready`, timeoutMs: 120_000 },
      ).catch((error: unknown) => {
        console.error(services[replica]?.output().slice(-4000));
        throw error;
      });
    await reader.connect();
    await reader.subscribe({ topic: topics.decisions.name, fromBeginning: true });
    await reader.run({
      eachBatch: ({ batch }) => {
        const now = performance.now();
        for (const message of batch.messages) {
          const cause = message.headers?.ce_causationid?.toString();
          if (cause && !decidedAt.has(cause)) decidedAt.set(cause, now);
        }
        return Promise.resolve();
      },
    });
    // Both groups own their partitions before anything is measured.
    const admin = kafka.admin();
    await admin.connect();
    await waitFor(
      async () => {
        const { groups } = await admin.describeGroups([
          `${namespace}.decisioning`,
          `${namespace}.bench-reader`,
        ]);
        return groups.every((group) => group.state === 'Stable');
      },
      { what: 'consumer groups stable' },
    );
    await admin.disconnect();
    // A few decisions first, so connection set-up and JIT warm-up are not measured.
    await run('warm-up', 'warm', 60);
    const burst = await run(`burst of ${burstDecisions}`, 'burst', burstDecisions);
    const paced: RunFigures[] = [];
    for (const rate of pacedRates)
      paced.push(await run(`paced ${rate}/s`, `paced${rate}`, rate * pacedSeconds, rate));
    console.log(
      `Decisioning: offline planner, no retrieval, ${replicas} service process(es), local broker + Postgres; each decision = ` +
        'its share of a consumer run (memory + queue, 1 statement) + of a worker batch (queue read with history, ' +
        'one publishing transaction per group) + outbox relay to keel.decisions.v1.',
    );
    console.log('latency = case event published → its decision record consumed from keel.decisions.v1');
    printFigures([burst, ...paced]);
    console.log('targets: ≥ 500 decisions/s; p99 ≤ 100 ms at half that load (250/s)');
    console.log("Where the service's time went (its own timers over all runs, mean per call):");
    console.table(await portTimings(ports));
    if (replicas > 1) {
      console.log("Each replica's decisions over all runs, and the queue shards it holds at the end:");
      console.table(await replicaShares(ports));
    }
    const baseline = loadFigures('kafka-baseline');
    if (baseline) {
      console.log('Kafka baseline (last `npm run bench -- kafka` on this machine):');
      printFigures(baseline);
    }
  } finally {
    await reader.disconnect();
    await Promise.all(services.map((service) => service.kill('SIGTERM')));
    await sender.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({
      topics: (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`)),
    });
    await admin.disconnect();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
