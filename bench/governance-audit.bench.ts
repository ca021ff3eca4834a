// Governance audit log: how fast events are appended to a tenant's keyed hash chain in Postgres, and how long
// a lineage-style read of one case's rows takes in a large log. Appends go through the service's own
// AuditService and repository, as the consumer calls them: one event per transaction (what a consumer does
// per record today) and batches of 500 (what a batched consumer would do).
// Run: bench/run.sh governance   (BENCH_AUDIT_EVENTS sets the size of the large log; default 1,000,000)
import { performance } from 'node:perf_hooks';
import { type CloudEvent } from '@keel/contracts';
import { AuditChain } from '@keel/governance-domain';
import { PostgresTransactions } from '../libs/governance/feature/src/persistence/transactions';
import { PostgresAuditLog } from '../libs/governance/feature/src/persistence/audit-log.repository';
import { governanceTablesMigration } from '../libs/governance/feature/src/persistence/governance-tables.migration';
import { AuditService } from '../libs/governance/feature/src/application/audit.service';
import { sampleEvent, scratchDatabase, validTopicData } from '@keel/testing';
import { topics } from '@keel/contracts';
import { DataSource } from 'typeorm';
import { figures, printFigures, saveFigures, type RunFigures } from './bench-stats';

const schema = 'governance';
const largeLog = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const cases = Math.max(1, Math.floor(largeLog / 20));
const lineageQueries = 2_000;

function caseEvent(index: number, tenant: string): CloudEvent {
  return sampleEvent(topics.caseEvents, validTopicData.caseEvents, {
    id: `bench-${tenant}-${index}`,
    idempotencykey: `bench-${tenant}-${index}`,
    subject: `case-${index % cases}`,
    tenant,
  });
}

async function ingest(
  audit: AuditService,
  dataSource: DataSource,
  tenant: string,
  count: number,
  batch: number,
) {
  const latencies: number[] = [];
  let seconds = 0;
  for (let offset = 0; offset < count; offset += batch) {
    // Built outside the clock: the consumer receives events already decoded and validated.
    const events = Array.from({ length: Math.min(batch, count - offset) }, (_, index) =>
      caseEvent(offset + index, tenant),
    );
    const before = performance.now();
    await dataSource.transaction((manager) => audit.record(manager, topics.caseEvents.name, events));
    const elapsed = performance.now() - before;
    seconds += elapsed / 1000;
    const perEvent = elapsed / events.length;
    for (let index = 0; index < events.length; index += 1) latencies.push(perEvent);
  }
  return figures(`append, ${batch} per transaction (${tenant})`, latencies, seconds);
}

async function main(): Promise<void> {
  const database = await scratchDatabase('keel_governance_bench');
  const dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    schema,
    migrations: [governanceTablesMigration(schema)],
    extra: { max: 4 },
  });
  try {
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA "${schema}"`);
    await dataSource.runMigrations();
    const audit = new AuditService(
      new PostgresAuditLog(schema),
      new PostgresTransactions(dataSource),
      new AuditChain('bench-audit-chain-key-0123456789abcdef'),
    );
    const rows: RunFigures[] = [];
    rows.push(await ingest(audit, dataSource, 'single', 5_000, 1));
    rows.push(await ingest(audit, dataSource, 'batched', 50_000, 500));

    console.log(`building a log of ${largeLog} events over ${cases} cases…`);
    await ingest(audit, dataSource, 'large', largeLog, 1_000);
    await dataSource.query(`ANALYZE "${schema}"."audit_log"`);
    const latencies: number[] = [];
    const started = performance.now();
    for (let query = 0; query < lineageQueries; query += 1) {
      const subject = `case-${(query * 7919) % cases}`;
      const before = performance.now();
      const found = await audit.ofCase('large', subject);
      latencies.push(performance.now() - before);
      if (found.length === 0) throw new Error(`no rows for ${subject}`);
    }
    rows.push(
      figures(`lineage read of one case (${largeLog} rows)`, latencies, (performance.now() - started) / 1000),
    );

    const verifyStarted = performance.now();
    const verdict = await audit.verify('large');
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    console.log(
      `verify of ${verdict.rows} rows: ${verdict.intact ? 'intact' : 'broken'} in ${verifySeconds.toFixed(1)} s`,
    );

    printFigures(rows);
    saveFigures('governance-audit', rows);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
