// Replay gate: how many recorded decisions per second the gate reruns under a candidate release on one core
// (Node's one thread), with decisioning's own replay (recorded model exchange, lookups and clock; the offline
// planner, no model called) and the gate's summary — the evaluation behind POST /v1/releases/{id}/replay.
// The records are decisioning's agent's real output, decoded from JSON text first as they come out of the
// audit log's jsonb (that decode is timed apart). Target: ≥ 20,000 recorded decisions/s per core.
// Then the gate's whole path: the newest production decisions out of a real audit log in Postgres (written
// through AuditService's chain), read by the gate's repository, replayed and summarised.
// Run: npm run bench -- governance   (BENCH_REPLAY_DECISIONS sets how many; default 20,000)
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { type DecisionRecord } from '@keel/contracts';
import { type CloudEvent, buildEvent, topics } from '@keel/contracts';
import { currentArtifacts } from '@keel/decisioning-domain';
import { AuditChain, summariseReplay } from '@keel/governance-domain';
import { messagingTablesMigration } from '@keel/messaging';
import { scratchDatabase } from '@keel/testing';
import { DataSource } from 'typeorm';
import { AuditService } from '../libs/governance/feature/src/application/audit.service';
import { nativeHmacSha256 } from '../libs/governance/feature/src/application/native-hmac';
import { PostgresAuditLog } from '../libs/governance/feature/src/persistence/audit-log.repository';
import { governanceInboxLineageMigration } from '../libs/governance/feature/src/persistence/governance-inbox-lineage.migration';
import { governanceTablesMigration } from '../libs/governance/feature/src/persistence/governance-tables.migration';
import { PostgresTransactions } from '../libs/governance/feature/src/persistence/transactions';
import { PostgresRecordedDecisions } from '../libs/governance/feature/src/quality/persistence/recorded-decisions.repository';
import {
  type CandidateArtifacts,
  replayRecorded,
} from '../libs/governance/feature/src/quality/decision-replayer';
import {
  decide,
  lenientGuardrails,
  orderCreated,
  orderWithoutAddress,
  strictGuardrails,
  withGuardrails,
} from '../libs/governance/feature/src/quality/testing/recorded-decisions';

const count = Number(process.env.BENCH_REPLAY_DECISIONS ?? 20_000);
const rounds = 3;
const model = 'offline-planner@1';

async function recorded(): Promise<string[]> {
  const texts: string[] = [];
  for (let index = 0; index < count; index += 1) {
    // Mostly complete orders over a spread of amounts (some above the large-amount bar), a few without address.
    const trigger =
      index % 10 === 9
        ? orderWithoutAddress(index, 200, 'bench')
        : orderCreated(index, 50 + ((index * 37) % 1500), 'bench');
    texts.push(JSON.stringify(await decide(trigger, currentArtifacts)));
  }
  return texts;
}

async function main(): Promise<void> {
  console.log(`recording ${count} decisions with decisioning's agent (offline planner)…`);
  const texts = await recorded();
  const decodeStarted = performance.now();
  const records = texts.map((text) => JSON.parse(text) as DecisionRecord);
  const decodeSeconds = (performance.now() - decodeStarted) / 1000;
  const candidates: [string, CandidateArtifacts][] = [
    ['production itself (guardrails v1)', { artifacts: currentArtifacts, model }],
    ['lenient (large amounts from 1,200)', { artifacts: withGuardrails(lenientGuardrails()), model }],
    ['strict (no workflow for new orders)', { artifacts: withGuardrails(strictGuardrails()), model }],
  ];
  const rows: Record<string, string | number>[] = [];
  for (const [label, candidate] of candidates) {
    const rates: number[] = [];
    const cpuRates: number[] = [];
    let agreement: number | null = null;
    let changed = 0;
    for (let round = 0; round < rounds; round += 1) {
      const inputs = records.map((record) => ({ record }));
      const started = performance.now();
      const cpu = process.cpuUsage();
      const summary = summariseReplay(await replayRecorded(inputs, candidate));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      rates.push(count / seconds);
      // CPU time of the whole process (GC threads included): the rate per core however busy the machine is.
      cpuRates.push(count / ((used.user + used.system) / 1e6));
      agreement = summary.agreement;
      changed = summary.changed;
      if (summary.diverged > 0) throw new Error(`${summary.diverged} decisions diverged under ${label}`);
    }
    rates.sort((left, right) => left - right);
    cpuRates.sort((left, right) => left - right);
    rows.push({
      candidate: label,
      decisions: count,
      'median decisions/s': Math.round(rates[Math.floor(rounds / 2)] ?? 0),
      'best decisions/s': Math.round(rates.at(-1) ?? 0),
      'median per CPU-second': Math.round(cpuRates[Math.floor(rounds / 2)] ?? 0),
      agreement: agreement === null ? '—' : `${(agreement * 100).toFixed(1)}%`,
      changed,
    });
  }
  console.table(rows);
  console.log(
    `decoding ${count} records from JSON text: ${Math.round(count / decodeSeconds)} records/s (apart from the replay)`,
  );
  await fromTheStore(records);
  console.log(
    `load average ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  console.log('target: ≥ 20,000 recorded decisions/s per core (one Node thread is one core)');
}

/** The gate's path: records in the audit log, read by its repository (pg decodes the jsonb), replayed. */
async function fromTheStore(records: readonly DecisionRecord[]): Promise<void> {
  const schema = 'governance';
  const database = await scratchDatabase('keel_governance_replay_bench');
  const dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    schema,
    migrations: [
      messagingTablesMigration(schema),
      governanceTablesMigration(schema),
      governanceInboxLineageMigration(schema),
    ],
  });
  try {
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA "${schema}"`);
    await dataSource.runMigrations();
    const transactions = new PostgresTransactions(dataSource);
    const audit = new AuditService(
      new PostgresAuditLog(schema),
      transactions,
      new AuditChain('bench-replay-chain-key-0123456789abcdef', nativeHmacSha256),
    );
    for (let offset = 0; offset < records.length; offset += 500) {
      const events: CloudEvent[] = records.slice(offset, offset + 500).map((record, index) =>
        buildEvent(topics.decisions, {
          id: `bench-decision-${offset + index}`,
          source: 'urn:keel:decisioning',
          type: 'keel.decision.made',
          time: new Date(Date.UTC(2026, 11, 1) + offset + index).toISOString(),
          subject: record.caseId,
          tenant: 'bench',
          correlationid: record.caseId,
          idempotencykey: `bench-decision-${offset + index}`,
          data: record,
        }),
      );
      await transactions.run((manager) => audit.record(manager, topics.decisions.name, events));
    }
    const decisions = new PostgresRecordedDecisions(schema);
    const candidate = { artifacts: withGuardrails(lenientGuardrails()), model };
    const rows: Record<string, string | number>[] = [];
    for (const sample of [5_000, records.length]) {
      const started = performance.now();
      const read = await transactions.run((manager) =>
        decisions.newest(manager, 'bench', { mode: 'production', limit: sample }),
      );
      const readSeconds = (performance.now() - started) / 1000;
      const summary = summariseReplay(
        await replayRecorded(
          read.map((item) => ({ record: item.record })),
          candidate,
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      rows.push({
        'from the audit log': `newest ${sample}`,
        'read s': readSeconds.toFixed(2),
        'read + replay s': seconds.toFixed(2),
        'decisions/s': Math.round(summary.recorded / seconds),
        agreement: `${((summary.agreement ?? 0) * 100).toFixed(1)}%`,
      });
    }
    console.table(rows);
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
