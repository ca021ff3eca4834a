import { type CloudEvent } from '@keel/contracts';
import { AuditChain } from '@keel/governance-domain';
import { createServiceDataSource, runServiceMigrations, serviceSchemaMigration } from '@keel/persistence';
import { scratchDatabase, type ScratchDatabase } from '@keel/testing';
import type { DataSource } from 'typeorm';
import { AuditService } from '../application/audit.service';
import { nativeHmacSha256 } from '../application/native-hmac';
import { PostgresAuditLog } from './audit-log.repository';
import { governanceInboxLineageMigration } from './governance-inbox-lineage.migration';
import { governanceTablesMigration } from './governance-tables.migration';
import { PostgresTransactions } from './transactions';

function event(tenant: string, n: number): CloudEvent {
  return {
    specversion: '1.0',
    id: `e-${tenant}-${n}`,
    source: 'keel/test',
    type: 'keel.case.event.recorded',
    subject: `case-${n % 7}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    tenant,
    datacontenttype: 'application/json',
    data: { n },
  } as CloudEvent;
}

/**
 * The head is created and locked by one statement and moved with the rows by another: transactions appending
 * to one tenant's chain at once (a consumer's partitions run concurrently) must still line up one behind the
 * other — no position taken twice, none skipped, every hash continuing the row before.
 */
describe('the audit log on Postgres, appended to concurrently', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;
  let audit: AuditService;

  beforeAll(async () => {
    database = await scratchDatabase('keel_audit_log');
    dataSource = createServiceDataSource({
      schema: 'governance',
      migrations: [
        serviceSchemaMigration('governance'),
        governanceTablesMigration('governance'),
        // The retention checkpoints verify starts from.
        governanceInboxLineageMigration('governance'),
      ],
      url: database.url,
      poolSize: 10,
    });
    await dataSource.initialize();
    await runServiceMigrations(dataSource);
    audit = new AuditService(
      new PostgresAuditLog('governance'),
      new PostgresTransactions(dataSource),
      new AuditChain('k'.repeat(32), nativeHmacSha256),
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('chains every row once, in one unbroken order per tenant, from the tenant’s first event on', async () => {
    const writers = 8;
    const runsEach = 6;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let run = 0; run < runsEach; run++) {
          const first = (writer * runsEach + run) * 3;
          await dataSource.transaction((manager) =>
            audit.record(
              manager,
              'keel.cases.events.v1',
              [first, first + 1, first + 2].flatMap((n) => [event('acme', n), event('globex', n)]),
            ),
          );
        }
      }),
    );

    for (const tenant of ['acme', 'globex']) {
      await expect(audit.verify(tenant)).resolves.toMatchObject({
        intact: true,
        rows: writers * runsEach * 3,
      });
      const rows = await audit.ofCase(tenant, 'case-0');
      expect(rows.length).toBeGreaterThan(0);
    }
    const [head] = await dataSource.query<Array<{ position: string }>>(
      `SELECT position FROM governance.audit_heads WHERE tenant = 'acme'`,
    );
    expect(Number(head?.position)).toBe(writers * runsEach * 3);
  });
});
