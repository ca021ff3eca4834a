// Governance audit log: how fast events are appended to a tenant's keyed hash chain in Postgres — through
// the service's own AuditService, repository and commit hook, and end to end from Kafka through EventConsumer
// as the audit consumer runs — then a lineage read of one case in a log of 1,000,000 events, verify, and a
// retention cut.
// Run: npm run bench -- governance   (BENCH_AUDIT_EVENTS sets the size of the large log; default 1,000,000;
// BENCH_AUDIT_CONSUMED the events consumed from Kafka; default 20,000)
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type CloudEvent, type TopicKey, topics } from '@keel/contracts';
import { AuditChain, caseLineage } from '@keel/governance-domain';
import {
  EventConsumer,
  EventPublisher,
  KafkaRecordSender,
  MessagingSchema,
  messagingDeliveryCountsMigration,
  messagingTablesMigration,
  subscribeRuns,
} from '@keel/messaging';
import {
  isolatedTopic,
  sampleEvent,
  scratchDatabase,
  testKafka,
  uniqueName,
  validTopicData,
  waitFor,
} from '@keel/testing';
import { DataSource } from 'typeorm';
import { AuditService } from '../libs/governance/feature/src/application/audit.service';
import { AuditCommitFlush } from '../libs/governance/feature/src/consumers/audit-commit-flush';
import { nativeHmacSha256 } from '../libs/governance/feature/src/application/native-hmac';
import { PostgresAuditLog } from '../libs/governance/feature/src/persistence/audit-log.repository';
import { governanceInboxLineageMigration } from '../libs/governance/feature/src/persistence/governance-inbox-lineage.migration';
import { governanceTablesMigration } from '../libs/governance/feature/src/persistence/governance-tables.migration';
import { PostgresTransactions } from '../libs/governance/feature/src/persistence/transactions';
import { figures, printFigures, saveFigures, type RunFigures } from './bench-stats';

const schema = 'governance';
const largeLog = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const consumed = Number(process.env.BENCH_AUDIT_CONSUMED ?? 20_000);
/** Each case of the large log has this many events: raw, normalized, decision, commands, steps, approvals. */
const perCase = 20;
const cases = Math.max(1, Math.floor(largeLog / perCase));
const lineageQueries = 2_000;
const key = 'bench-audit-chain-key-0123456789abcdef';

function caseEvent(index: number, tenant: string) {
  return sampleEvent(topics.caseEvents, validTopicData.caseEvents, {
    id: `bench-${tenant}-${index}`,
    idempotencykey: `bench-${tenant}-${index}`,
    subject: `case-${index % 1000}`,
    tenant,
  });
}

/** Templates of one case's story, built (and validated) once, then copied with ids per case. */
const storyTemplate: ReadonlyArray<readonly [TopicKey, CloudEvent]> = (
  [
    'sourceRaw',
    'caseEvents',
    'caseEvents',
    'decisions',
    'workflowCommands',
    ...Array<TopicKey>(11).fill('workflowEvents'),
    'approvals',
    'approvals',
    'supportNotifications',
    'workflowEvents',
  ] as const
).map((key, index) => [key, sampleEvent(topics[key], validTopicData[key], { id: `t-${index}` })] as const);

/** The `index`-th event of the large log: case `index / perCase`, its `index % perCase`-th event. */
function storyEvent(index: number, tenant: string): { topic: string; event: CloudEvent } {
  const caseNumber = Math.floor(index / perCase);
  const step = index % perCase;
  const [key, template] = storyTemplate[step];
  const caseId = `case-${caseNumber}`;
  const raw = `raw-${caseNumber}`;
  const time = new Date(Date.UTC(2026, 10, 1) + index * 10).toISOString();
  const event: CloudEvent = {
    ...template,
    id: step === 0 ? raw : `ev-${index}`,
    idempotencykey: `ev-${index}`,
    tenant,
    time,
    // The raw event is keyed by its source, as ingestion's Kafka client keys it; lineage reaches it by cause.
    subject: step === 0 ? `${tenant}/shop` : caseId,
    ...(key === 'caseEvents' ? { causationid: raw } : { causationid: `ev-${index - 1}` }),
  };
  return { topic: topics[key].name, event };
}

/** Appends through the consumer's path: events staged on a transaction, appended by the commit hook. */
async function stagedIngest(
  audit: AuditService,
  dataSource: DataSource,
  tenant: string,
  count: number,
  batch: number,
): Promise<RunFigures> {
  const latencies: number[] = [];
  let seconds = 0;
  for (let offset = 0; offset < count; offset += batch) {
    // Built outside the clock: the consumer receives events already decoded and validated.
    const events = Array.from({ length: Math.min(batch, count - offset) }, (_, index) =>
      caseEvent(offset + index, tenant),
    );
    const before = performance.now();
    await dataSource.transaction((manager) => {
      for (const event of events) audit.stage(manager, topics.caseEvents.name, event);
      return Promise.resolve();
    });
    const elapsed = performance.now() - before;
    seconds += elapsed / 1000;
    for (let index = 0; index < events.length; index += 1) latencies.push(elapsed / events.length);
  }
  return figures(`append, ${batch} per transaction (${tenant})`, latencies, seconds);
}

/** End to end: events on a Kafka topic consumed by EventConsumer, staged per record, appended per run. */
async function consumerIngest(
  audit: AuditService,
  dataSource: DataSource,
  count: number,
  recordsPerTransaction: number,
): Promise<RunFigures> {
  const kafka = testKafka();
  const topic = await isolatedTopic(kafka, topics.caseEvents, 6);
  const sender = new KafkaRecordSender(kafka);
  const tenant = `consumed-${recordsPerTransaction}`;
  const events = Array.from({ length: count }, (_, index) => caseEvent(index, tenant));
  const publisher = new EventPublisher(sender);
  for (let offset = 0; offset < count; offset += 500)
    await publisher.publish(topic, events.slice(offset, offset + 500));
  let handled = 0;
  const consumer = new EventConsumer({
    kafka,
    groupId: uniqueName('bench-audit'),
    recordsPerTransaction,
    commitEveryRecords: recordsPerTransaction,
    dataSource,
    tables: new MessagingSchema(schema),
    deadLetters: sender,
    subscriptions: [
      // As `AuditConsumer` does: a run's events staged in order and appended at the end of the call.
      subscribeRuns(topic, async (run, context) => {
        for (const event of run) audit.stage(context.manager, topics.caseEvents.name, event);
        await audit.flushStaged(context.manager);
        handled += run.length;
      }),
    ],
  });
  // Timed from the group's start over a topic already full, so the figure is the consumer's rate.
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await consumer.start();
  const rows = async () =>
    Number(
      (
        await dataSource.query<Array<{ n: string }>>(
          `SELECT position AS n FROM "${schema}".audit_heads WHERE tenant = $1`,
          [tenant],
        )
      )[0]?.n ?? 0,
    );
  await waitFor(async () => (await rows()) >= count, { timeoutMs: 600_000, intervalMs: 50 });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // This process's CPU per event (decode and validate, staging, hashing, the driver): what the rate would be
  // bound by if Postgres and the rest of the machine were free.
  console.log(
    `consumer process CPU: ${Math.round((cpu.user + cpu.system) / count)} µs per event ` +
      `(${Math.round(count / ((cpu.user + cpu.system) / 1e6))} events per CPU-second)`,
  );
  await consumer.stop();
  await sender.disconnect();
  console.log(`consumer handled ${handled} records (redeliveries included) for ${count} rows`);
  return figures(
    `consumed from Kafka → chain (EventConsumer, 6 partitions, runs of ${recordsPerTransaction})`,
    new Array<number>(count).fill(0),
    seconds,
  );
}

async function main(): Promise<void> {
  const database = await scratchDatabase('keel_governance_bench');
  const dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    schema,
    migrations: [
      messagingTablesMigration(schema),
      messagingDeliveryCountsMigration(schema),
      governanceTablesMigration(schema),
      governanceInboxLineageMigration(schema),
    ],
    extra: { max: 6 },
  });
  try {
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA "${schema}"`);
    await dataSource.runMigrations();
    const log = new PostgresAuditLog(schema);
    const transactions = new PostgresTransactions(dataSource);
    const audit = new AuditService(log, transactions, new AuditChain(key, nativeHmacSha256));
    dataSource.subscribers.push(new AuditCommitFlush(audit));
    const rows: RunFigures[] = [];
    const note = (row: RunFigures) => {
      rows.push(row);
      console.log(
        `${row.label}: ${Math.round(row.perSecond)}/s, p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms`,
      );
    };
    note(await stagedIngest(audit, dataSource, 'single', 2_000, 1));
    note(await stagedIngest(audit, dataSource, 'run-of-50', 20_000, 50));
    note(await stagedIngest(audit, dataSource, 'run-of-500', 50_000, 500));
    const portable = new AuditService(log, transactions, new AuditChain(key));
    const before = performance.now();
    for (let offset = 0; offset < 20_000; offset += 500) {
      const events = Array.from({ length: 500 }, (_, index) => caseEvent(offset + index, 'portable'));
      await dataSource.transaction((manager) => portable.record(manager, topics.caseEvents.name, events));
    }
    note(
      figures(
        'append, 500 per transaction, portable HMAC (before)',
        new Array<number>(20_000).fill(0),
        (performance.now() - before) / 1000,
      ),
    );
    // 50 records per run is EventConsumer's default (what the service runs today); 500 is the run size the
    // chain needs to amortise the tenant head's lock over a commit.
    note(await consumerIngest(audit, dataSource, consumed, 50));
    note(await consumerIngest(audit, dataSource, consumed, 500));

    console.log(`building a log of ${largeLog} events over ${cases} cases (${perCase} events each)…`);
    const loadStarted = performance.now();
    const loadBatch = 5_000;
    for (let offset = 0; offset < largeLog; offset += loadBatch) {
      const batch = Array.from({ length: Math.min(loadBatch, largeLog - offset) }, (_, index) =>
        storyEvent(offset + index, 'large'),
      );
      await dataSource.transaction((manager) => {
        for (const { topic, event } of batch) audit.stage(manager, topic, event);
        return Promise.resolve();
      });
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    note(
      figures(
        `append, ${loadBatch} per transaction (loading the large log)`,
        new Array<number>(largeLog).fill(0),
        loadSeconds,
      ),
    );
    await dataSource.query(`ANALYZE "${schema}"."audit_log"`);

    const latencies: number[] = [];
    const started = performance.now();
    let entries = 0;
    for (let query = 0; query < lineageQueries; query += 1) {
      const caseId = `case-${(query * 7919) % cases}`;
      const queryStarted = performance.now();
      const lineage = caseLineage(caseId, await audit.lineageRows('large', caseId));
      latencies.push(performance.now() - queryStarted);
      if (lineage.entries[0]?.stage !== 'source-event')
        throw new Error(`lineage of ${caseId} does not start at its source event`);
      entries += lineage.entries.length;
    }
    note(
      figures(
        `lineage of one case (${largeLog} rows; read + build)`,
        latencies,
        (performance.now() - started) / 1000,
      ),
    );
    console.log(`lineage: ${(entries / lineageQueries).toFixed(1)} entries per case on average`);

    const verifyStarted = performance.now();
    const verdict = await audit.verify('large');
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    console.log(
      `verify of ${verdict.rows} rows: ${verdict.intact ? 'intact' : 'broken'} in ${verifySeconds.toFixed(1)} s ` +
        `(${Math.round(verdict.rows / verifySeconds)} rows/s)`,
    );

    // Retention: everything recorded so far is older than "now + 1 s"; cut the loaded tenant's first half by
    // moving its recorded_at back, then prune it and verify from the checkpoint.
    await dataSource.query(
      `UPDATE "${schema}".audit_log SET recorded_at = now() - interval '400 days' WHERE tenant = 'large' AND position <= $1`,
      [Math.floor(largeLog / 2)],
    );
    const pruneStarted = performance.now();
    const pruned = await audit.prune('large', new Date(Date.now() - 365 * 86_400_000));
    const pruneSeconds = (performance.now() - pruneStarted) / 1000;
    const after = await audit.verify('large');
    console.log(
      `retention: pruned ${pruned.prunedRows} rows (checkpoint at ${pruned.checkpoint?.position}) in ` +
        `${pruneSeconds.toFixed(1)} s; verify afterwards: ${after.intact ? 'intact' : 'broken'}, ${after.rows} rows`,
    );

    // The figures swing with what else runs on the machine: say how busy it was.
    console.log(
      `load average (1/5/15 min) at the end: ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' / ')}`,
    );
    printFigures(rows);
    saveFigures('governance-audit', rows);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
