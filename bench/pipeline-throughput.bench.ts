// The pipeline end to end: generated order.placed events through ingestion's HTTP API → case event → decision
// (offline planner) → five-step order-routing workflow completed, with the five services as separate processes
// on the local Kafka and Postgres (the e2e fixture). Burst: every case sent as fast as ingestion answers, the
// figure is cases whose workflow completed per second. Paced at half the burst figure: event→decision and
// event→workflow-complete latency per case. Every time comes from the records: the case's event time (set by
// the sender when it sends) and the Kafka timestamps of its decision and of its instance's completion, so a
// slow reader here cannot inflate a figure. In the same run: raw kafkajs produce→consume of the run's own
// case-event records (same keys, values, headers), resident memory and CPU of every service process, the
// machine's load, and the embedded demo's wall time on the bundled data.
// Run: npm run bench -- pipeline   (BENCH_CASES, BENCH_PACED_SECONDS, BENCH_DEMO=0 to skip the demo,
// BENCH_CPU_PROF=<dir> for a CPU profile of every service process, BENCH_PACED_RATE to pace at a fixed rate)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CaseEvent, type DecisionRecord, topics as registry, type WorkflowEvent } from '@keel/contracts';
import { HttpIngestionClient, type NumberedEvent } from '@keel/ingestion-client';
import { isolatedTopic, testKafka, testTokens, uniqueName, waitFor } from '@keel/testing';
import type { Consumer, IHeaders } from 'kafkajs';
import { Client } from 'pg';
import { PipelinePlatform, completableOrder, pipelineServices } from '../test/e2e/fixtures/pipeline-platform';
import {
  cpuSecondsBetween,
  isKafkaBroker,
  isPostgresProcess,
  machineBusySeconds,
  processCpuSeconds,
  processesCpuSeconds,
} from './bench-stats';

const tenant = 'acme';
const burstCases = Number(process.env.BENCH_CASES ?? 1_000);
const pacedSeconds = Number(process.env.BENCH_PACED_SECONDS ?? 20);
const cpuProfileDir = process.env.BENCH_CPU_PROF;
/** A fixed paced rate (cases/s) instead of half the burst figure, to compare two builds at one load. */
const pacedRate = process.env.BENCH_PACED_RATE ? Number(process.env.BENCH_PACED_RATE) : undefined;
const batchSize = 50;
const senders = 4;
const terminal = new Set(['completed', 'failed', 'compensated', 'cancelled']);
const targets = { casesPerSecond: 500, decisionP99Ms: 50, completeP99Ms: 250, rssMb: 300, demoSeconds: 30 };

interface CaseTimes {
  run: string;
  eventAt: number;
  /** When ingestion's relay published the case event. */
  caseEventAt: number;
  decisionAt?: number;
  instanceId?: string;
  /** The instance's first event: the workflow service started it. */
  startedAt?: number;
  restedAt?: number;
  outcome?: string;
}

/** Reads the case, decision and workflow topics and keeps, per case, the timestamps of its records. */
class PipelineWatch {
  readonly cases = new Map<string, CaseTimes>();
  /** The case-event records as they are on the broker, for the raw Kafka run of the same records. */
  readonly caseRecords: Array<{ key: Buffer | null; value: Buffer | null; headers: IHeaders }> = [];
  private readonly early = new Map<string, Array<(times: CaseTimes) => void>>();
  private readonly instanceCase = new Map<string, string>();
  private consumer: Consumer | undefined;

  constructor(private readonly topics: typeof registry) {}

  async start(): Promise<void> {
    const { caseEvents, decisions, workflowEvents } = this.topics;
    const watched = [caseEvents, decisions, workflowEvents].map((topic) => topic.name);
    // The figures are the records' own timestamps (their producer's clock), not when the watch reads them: it
    // has the broker gather 1 MiB or wait half a second per fetch, so that it does not share the cores with the
    // services for a fetch (and a broker answer) per record.
    this.consumer = testKafka().consumer({
      groupId: uniqueName('pipeline-watch'),
      minBytes: 1024 * 1024,
      maxWaitTimeInMs: 500,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: watched, fromBeginning: true });
    await this.consumer.run({
      // A watch of its own, read from the beginning: committing its offsets would only load the broker the
      // services share (it committed after every batch, more often than all five services together).
      autoCommit: false,
      partitionsConsumedConcurrently: 6,
      eachMessage: ({ topic, message }) => {
        const at = Number(message.timestamp);
        // The services validated what they published: the watch only reads the data, sparing the cores it
        // shares with them a second validation of every record (it was a tenth of the machine at a paced load).
        const data: unknown = JSON.parse(message.value?.toString() ?? 'null');
        if (topic === caseEvents.name) {
          const caseEvent = data as CaseEvent;
          this.caseRecords.push({ key: message.key, value: message.value, headers: message.headers ?? {} });
          const times: CaseTimes = {
            run: caseEvent.source.eventId.split('-')[0] ?? '',
            eventAt: Date.parse(caseEvent.occurredAt),
            caseEventAt: at,
          };
          this.cases.set(caseEvent.caseId, times);
          for (const apply of this.early.get(caseEvent.caseId) ?? []) apply(times);
          this.early.delete(caseEvent.caseId);
        } else if (topic === decisions.name) {
          const decision = data as DecisionRecord;
          if (decision.mode === 'production' && decision.action.tool === 'start_workflow')
            this.onCase(decision.caseId, (times) => {
              times.decisionAt = Math.min(times.decisionAt ?? at, at);
            });
        } else {
          const workflowEvent = data as WorkflowEvent;
          // The key is the event's subject: the case the instance works on.
          const caseId = message.key?.toString() ?? this.instanceCase.get(workflowEvent.instanceId);
          if (!caseId) return Promise.resolve();
          this.instanceCase.set(workflowEvent.instanceId, caseId);
          this.onCase(caseId, (times) => {
            times.startedAt = Math.min(times.startedAt ?? at, at);
          });
          if (terminal.has(workflowEvent.status))
            this.onCase(caseId, (times) => {
              times.instanceId = workflowEvent.instanceId;
              if (times.restedAt === undefined || at < times.restedAt) {
                times.restedAt = at;
                times.outcome = workflowEvent.status;
              }
            });
        }
        return Promise.resolve();
      },
    });
  }

  /** Partitions of different topics are read independently: a decision may be read before its case event. */
  private onCase(caseId: string, apply: (times: CaseTimes) => void): void {
    const times = this.cases.get(caseId);
    if (times) apply(times);
    else this.early.set(caseId, [...(this.early.get(caseId) ?? []), apply]);
  }

  ofRun(run: string): CaseTimes[] {
    return [...this.cases.values()].filter((times) => times.run === run);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** Processes beside the services whose CPU a case costs too: together they are the whole machine's work. */
const sharedProcesses: ReadonlyArray<{ label: string; matches: (commandLine: string) => boolean }> = [
  { label: 'postgres (every process)', matches: isPostgresProcess },
  { label: 'kafka broker', matches: isKafkaBroker },
];

/**
 * Peak resident size and CPU seconds of every service process while a run lasts, and the CPU seconds of
 * Postgres, the broker and this bench over the same span.
 */
class ProcessSampler {
  private readonly peakRssKb = new Map<string, number>();
  private readonly cpuStart = new Map<string, number>();
  private readonly cpuEnd = new Map<string, number>();
  private sharedStart: Array<Map<number, number>> = [];
  private shared: Array<{ label: string; cpuSeconds: number }> = [];
  private benchStart = process.cpuUsage();
  private machineStart = 0;
  /** Busy CPU seconds of the whole host from `start` to `stop`: what the processes above leave out shows here. */
  machineCpuSeconds = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly processes: ReadonlyArray<{ label: string; pid: number }>) {}

  private static rssKb(pid: number): number {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? Number.NaN);
  }

  private sample(): void {
    for (const { label, pid } of this.processes)
      this.peakRssKb.set(label, Math.max(this.peakRssKb.get(label) ?? 0, ProcessSampler.rssKb(pid)));
  }

  start(): void {
    for (const { label, pid } of this.processes) this.cpuStart.set(label, processCpuSeconds(pid));
    this.sharedStart = sharedProcesses.map(({ matches }) => processesCpuSeconds(matches));
    this.benchStart = process.cpuUsage();
    this.machineStart = machineBusySeconds();
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  /** CPU seconds from `start` to `stop` of Postgres, the broker and this bench. */
  sharedCpuSeconds(): ReadonlyArray<{ label: string; cpuSeconds: number }> {
    return this.shared;
  }

  stop(): Array<{ label: string; peakRssMb: number; cpuSeconds: number }> {
    clearInterval(this.timer);
    this.sample();
    for (const { label, pid } of this.processes) this.cpuEnd.set(label, processCpuSeconds(pid));
    const bench = process.cpuUsage(this.benchStart);
    this.machineCpuSeconds = machineBusySeconds() - this.machineStart;
    this.shared = [
      ...sharedProcesses.map(({ label, matches }, index) => ({
        label,
        cpuSeconds: cpuSecondsBetween(this.sharedStart[index] ?? new Map(), processesCpuSeconds(matches)),
      })),
      { label: 'bench (senders, watch, simulated systems)', cpuSeconds: (bench.user + bench.system) / 1e6 },
    ];
    return this.processes.map(({ label }) => ({
      label,
      peakRssMb: (this.peakRssKb.get(label) ?? Number.NaN) / 1024,
      cpuSeconds: (this.cpuEnd.get(label) ?? 0) - (this.cpuStart.get(label) ?? 0),
    }));
  }
}

async function sendAll(client: HttpIngestionClient, batches: NumberedEvent[][], concurrency: number) {
  const queue = [...batches];
  let rejected = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        const results = await client.send(batch);
        rejected += results.filter((result) => result.outcome !== 'accepted').length;
      }
    }),
  );
  if (rejected > 0) throw new Error(`${rejected} events not accepted`);
}

async function rested(watch: PipelineWatch, run: string, count: number, timeoutMs: number): Promise<void> {
  await waitFor(
    () => Promise.resolve(watch.ofRun(run).filter((times) => times.restedAt !== undefined).length >= count),
    { timeoutMs, intervalMs: 200, what: `${count} cases of run ${run} at rest` },
  ).catch((error: unknown) => {
    const seen = watch.ofRun(run);
    console.error(
      `${String(error)}: ${seen.length} case events, ${seen.filter((t) => t.decisionAt).length} decided, ` +
        `${seen.filter((t) => t.restedAt).length} at rest`,
    );
    throw error;
  });
}

/**
 * Waits until every service's consumer group has committed up to the end of every topic it reads: the burst
 * ends when its last workflow completes, but governance may still be auditing it and decisioning reading its
 * workflow events — work that would otherwise run during the paced run and be counted in its latencies.
 */
async function settled(namespace: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const lag = async (): Promise<number> => {
      let behind = 0;
      for (const service of pipelineServices) {
        for (const { topic, partitions } of await admin.fetchOffsets({
          groupId: `${namespace}.${service}`,
        })) {
          const ends = new Map(
            (await admin.fetchTopicOffsets(topic)).map((end) => [end.partition, Number(end.high)]),
          );
          for (const { partition, offset } of partitions)
            behind += Math.max(0, (ends.get(partition) ?? 0) - Math.max(0, Number(offset)));
        }
      }
      return behind;
    };
    await waitFor(async () => (await lag()) === 0, {
      timeoutMs,
      intervalMs: 250,
      what: 'every consumer group at the end of its topics',
    });
  } finally {
    await admin.disconnect();
  }
  return (performance.now() - started) / 1000;
}

/** Raw kafkajs, as the kafka bench runs it: idempotent producer, acks=all, batches of 100, 6 partitions. */
async function rawKafka(
  records: PipelineWatch['caseRecords'],
): Promise<{ perSecond: number; seconds: number }> {
  const kafka = testKafka();
  const topic = await isolatedTopic(kafka, registry.caseEvents, 6);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: uniqueName('raw'), maxWaitTimeInMs: 50 });
  let consumed = 0;
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: () => {
      consumed++;
      return Promise.resolve();
    },
  });
  const started = performance.now();
  for (let start = 0; start < records.length; start += 100)
    await producer.send({ topic: topic.name, acks: -1, messages: records.slice(start, start + 100) });
  await waitFor(() => Promise.resolve(consumed >= records.length), { timeoutMs: 300_000, intervalMs: 10 });
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic.name, `${topic.name}.dlq`] }).catch(() => undefined);
  await admin.disconnect();
  return { perSecond: records.length / seconds, seconds };
}

/** The README's main command on the bundled data, until it prints its summary and exits. */
async function demoWallSeconds(): Promise<number> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['-r', './tools/register.js', 'tools/demo/main.ts', '--exit', '--port-base', '0', '--no-progress'],
    { cwd: join(__dirname, '..'), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`demo exited ${code}: ${errors.slice(-2000)}`);
  return (performance.now() - started) / 1000;
}

/**
 * Where a case's time goes, between the records it leaves: the sender's event time, the case event's publish
 * (ingestion: HTTP accept, outbox commit, relay), the decision's publish (decisioning: consume, queue, decide,
 * commit, relay), the instance's first event (workflow: inbox, start) and its completion (the five steps).
 */
function hopsOf(times: CaseTimes[]): Record<string, number[]> {
  const done = times.filter(
    (t): t is Required<CaseTimes> =>
      t.outcome === 'completed' && t.decisionAt !== undefined && t.startedAt !== undefined,
  );
  return {
    'event → case event published': done.map((t) => t.caseEventAt - t.eventAt),
    'case event → decision published': done.map((t) => t.decisionAt - t.caseEventAt),
    'decision → instance started': done.map((t) => t.startedAt - t.decisionAt),
    'instance started → completed': done.map((t) => t.restedAt - t.startedAt),
  };
}

function outcomesOf(times: CaseTimes[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { outcome } of times)
    if (outcome && outcome !== 'completed') counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

/** Transactions committed in the pipeline's database so far (every service's schema is in it). */
async function commits(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.n ?? Number.NaN);
  } finally {
    await client.end();
  }
}

function met(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

async function main(): Promise<void> {
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const loadBefore = loadavg();
  const platform = await PipelinePlatform.start({
    env: {
      INGESTION_RATE_LIMIT: '100000000',
      // The deployed polls, not the fixture's quicker ones: in one process every commit wakes its relay and the
      // decision worker, so a poll only finds other replicas' work, and a short one spends CPU finding none.
      OUTBOX_POLL_MS: '200',
      DECISIONING_QUEUE_POLL_MS: '500',
      ...(cpuProfileDir
        ? {
            NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile.preload.js')}`,
            KEEL_CPU_PROFILE_DIR: cpuProfileDir,
          }
        : {}),
    },
    defaultStock: 100_000_000,
  });
  const watch = new PipelineWatch(platform.topics);
  const client = new HttpIngestionClient({
    url: platform.url('ingestion'),
    authorization: () => testTokens.bearer(tenant, 'operator'),
  });
  const processes = pipelineServices.flatMap((service) =>
    platform.services[service].map((child, replica) => {
      if (child.pid === undefined) throw new Error(`${service} has no process`);
      return { label: `${service}#${replica}`, pid: child.pid };
    }),
  );
  const rows: Array<Record<string, string | number>> = [];
  let demo: number | undefined;
  let stopped = false;
  try {
    await watch.start();
    // A few cases first so every service has its connections, caches and compiled paths warm.
    const warm = Array.from({ length: 20 }, (_, n) => completableOrder(tenant, 'warm', n));
    await sendAll(client, [warm], 1);
    await rested(watch, 'warm', warm.length, 120_000);

    // Burst: all cases sent by four senders in batches of 50, as fast as ingestion answers.
    const burstSampler = new ProcessSampler(processes);
    burstSampler.start();
    const commitsBefore = await commits(platform.databaseUrl);
    const burstStarted = Date.now();
    const burst = Array.from({ length: burstCases }, (_, n) => completableOrder(tenant, 'burst', n));
    const batches = Array.from({ length: Math.ceil(burst.length / batchSize) }, (_, n) =>
      burst.slice(n * batchSize, (n + 1) * batchSize),
    );
    await sendAll(client, batches, senders);
    const sentSeconds = (Date.now() - burstStarted) / 1000;
    await rested(watch, 'burst', burstCases, 900_000);
    // The burst's CPU includes what its cases left to do after the last workflow completed (audits mostly).
    const settleSeconds = await settled(platform.namespace, 300_000);
    const burstUsage = burstSampler.stop();
    const loadAfterBurst = loadavg();
    // The statistics collector reports a backend's counts when it goes idle, within a second or so.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const commitsPerCase = ((await commits(platform.databaseUrl)) - commitsBefore) / burstCases;
    const burstTimes = watch.ofRun('burst');
    const lastDecision = Math.max(...burstTimes.map((times) => times.decisionAt ?? Number.NaN));
    const lastRest = Math.max(...burstTimes.map((times) => times.restedAt ?? Number.NaN));
    const completed = burstTimes.filter((times) => times.outcome === 'completed').length;
    const casesPerSecond = completed / ((lastRest - burstStarted) / 1000);
    const decisionsPerSecond = burstCases / ((lastDecision - burstStarted) / 1000);

    // Paced at half the burst figure: one small batch every 50 ms.
    const rate = pacedRate ?? Math.max(1, casesPerSecond / 2);
    const pacedCount = Math.max(50, Math.round(rate * pacedSeconds));
    const perTick = Math.max(1, Math.round(rate / 20));
    const pacedSampler = new ProcessSampler(processes);
    pacedSampler.start();
    const pacedStarted = performance.now();
    for (let sent = 0; sent < pacedCount; sent += perTick) {
      const due = pacedStarted + (sent / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const batch = Array.from({ length: Math.min(perTick, pacedCount - sent) }, (_, n) =>
        completableOrder(tenant, 'paced', sent + n),
      );
      // Not awaited in order: a slow answer must not delay the next send past its due time.
      void sendAll(client, [batch], 1).catch((error: unknown) => console.error(error));
    }
    await rested(watch, 'paced', pacedCount, 600_000);
    // As the burst's: what its cases left to do (audits mostly) is part of their cost.
    await settled(platform.namespace, 300_000);
    const pacedUsage = pacedSampler.stop();
    const paced = watch.ofRun('paced');
    const toDecision = paced.flatMap((times) =>
      times.decisionAt === undefined ? [] : [times.decisionAt - times.eventAt],
    );
    const toComplete = paced.flatMap((times) =>
      times.outcome === 'completed' && times.restedAt !== undefined ? [times.restedAt - times.eventAt] : [],
    );

    const hops = hopsOf(paced);

    const raw = await rawKafka(watch.caseRecords.slice(0, burstCases + warm.length));
    const loadAfter = loadavg();
    await watch.stop();
    await platform.stop();
    stopped = true;
    if (process.env.BENCH_DEMO !== '0') demo = await demoWallSeconds();

    console.log(
      `Pipeline: five services as processes (1 replica each), offline planner, local Kafka (6 partitions) and ` +
        `Postgres; ${cpus().length} cores shared with other work; load average (1, 5, 15 min) ` +
        `${[loadBefore, loadAfterBurst, loadAfter].map((load) => load.map((l) => l.toFixed(1)).join(' ')).join(' / ')} ` +
        `before / after the burst / after the paced and raw runs.`,
    );
    console.log(
      `Burst: ${burstCases} order.placed events over HTTP in batches of ${batchSize} from ${senders} senders ` +
        `(sent in ${sentSeconds.toFixed(1)} s); ${completed} workflows completed, ` +
        `others rested as ${JSON.stringify(outcomesOf(burstTimes))}; every consumer caught up ` +
        `${settleSeconds.toFixed(1)} s after. ` +
        `Paced: ${pacedCount} cases at ${rate.toFixed(1)}/s (${pacedRate === undefined ? 'half the burst figure' : 'BENCH_PACED_RATE'}), ` +
        `${toComplete.length} completed, others rested as ${JSON.stringify(outcomesOf(paced))}.`,
    );
    const row = (figure: string, value: string, target: string, verdict: string) =>
      rows.push({ figure, value, target, verdict });
    row(
      'end to end, burst (cases/s to workflow completed)',
      casesPerSecond.toFixed(1),
      `≥ ${targets.casesPerSecond}`,
      met(casesPerSecond >= targets.casesPerSecond),
    );
    row('  of which event → decision (decisions/s)', decisionsPerSecond.toFixed(1), '', '');
    row('raw kafkajs produce→consume, same records', raw.perSecond.toFixed(0), '', '');
    row('ratio end to end / raw Kafka', (casesPerSecond / raw.perSecond).toFixed(4), '', '');
    row('Postgres commits per case (burst, all services)', commitsPerCase.toFixed(1), '', '');
    row('paced p50 event → decision (ms)', quantile(toDecision, 0.5).toFixed(0), '', '');
    row(
      'paced p99 event → decision (ms)',
      quantile(toDecision, 0.99).toFixed(0),
      `≤ ${targets.decisionP99Ms}`,
      met(quantile(toDecision, 0.99) <= targets.decisionP99Ms),
    );
    row('paced p50 event → workflow complete (ms)', quantile(toComplete, 0.5).toFixed(0), '', '');
    row(
      'paced p99 event → workflow complete (ms)',
      quantile(toComplete, 0.99).toFixed(0),
      `≤ ${targets.completeP99Ms}`,
      met(quantile(toComplete, 0.99) <= targets.completeP99Ms),
    );
    for (const [hop, spans] of Object.entries(hops))
      row(
        `  paced hop ${hop} p50 / p99 (ms)`,
        `${quantile(spans, 0.5).toFixed(0)} / ${quantile(spans, 0.99).toFixed(0)}`,
        '',
        '',
      );
    for (const [index, usage] of burstUsage.entries()) {
      const peak = Math.max(usage.peakRssMb, pacedUsage[index]?.peakRssMb ?? 0);
      row(
        `${usage.label} peak RSS MB (CPU s burst / paced)`,
        `${peak.toFixed(0)} (${usage.cpuSeconds.toFixed(1)} / ${(pacedUsage[index]?.cpuSeconds ?? 0).toFixed(1)})`,
        `≤ ${targets.rssMb}`,
        met(peak <= targets.rssMb),
      );
    }
    // The machine's whole CPU per case: with every core busy at that cost, no more cases fit in a second.
    const perCaseMs = (seconds: number, cases: number) => (1000 * seconds) / cases;
    const burstShared = burstSampler.sharedCpuSeconds();
    const pacedShared = pacedSampler.sharedCpuSeconds();
    for (const [index, { label, cpuSeconds }] of burstShared.entries())
      row(
        `${label} CPU s burst / paced`,
        `${cpuSeconds.toFixed(1)} / ${(pacedShared[index]?.cpuSeconds ?? 0).toFixed(1)}`,
        '',
        '',
      );
    const totalOf = (usage: ReadonlyArray<{ cpuSeconds: number }>) =>
      usage.reduce((sum, { cpuSeconds }) => sum + cpuSeconds, 0);
    const burstMsPerCase = perCaseMs(totalOf(burstUsage) + totalOf(burstShared), burstCases);
    const pacedMsPerCase = perCaseMs(totalOf(pacedUsage) + totalOf(pacedShared), pacedCount);
    row(
      'CPU ms per case, all processes, burst / paced',
      `${burstMsPerCase.toFixed(1)} / ${pacedMsPerCase.toFixed(1)}`,
      '',
      '',
    );
    row(
      '  the whole host busy, ms per case, burst / paced',
      `${perCaseMs(burstSampler.machineCpuSeconds, burstCases).toFixed(1)} / ${perCaseMs(pacedSampler.machineCpuSeconds, pacedCount).toFixed(1)}`,
      '',
      '',
    );
    row(
      `  cases/s ${cpus().length} cores fit at the burst's cost`,
      ((cpus().length * 1000) / burstMsPerCase).toFixed(0),
      '',
      '',
    );
    if (demo !== undefined)
      row(
        'embedded demo wall time on the bundled data (s)',
        demo.toFixed(1),
        `< ${targets.demoSeconds}`,
        met(demo < targets.demoSeconds),
      );
    console.table(rows);
  } catch (error) {
    // What the services logged (warnings and errors only, LOG_LEVEL=warn) is where a stuck run says why.
    for (const service of pipelineServices)
      for (const child of platform.services[service])
        console.error(`--- ${service} (last lines)\n${child.output().split('\n').slice(-15).join('\n')}`);
    if (!stopped) {
      await watch.stop().catch(() => undefined);
      await platform.stop().catch(() => undefined);
    }
    throw error;
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
