import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scratchDatabase, type ScratchDatabase } from '@keel/testing';
import { loadPostgresStatements, PostgresConnector } from '@keel/workflow-runtime';
import { DataSource } from 'typeorm';

describe('PostgresConnector on Postgres', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;
  const folder = mkdtempSync(join(tmpdir(), 'keel-statements-'));

  beforeAll(async () => {
    database = await scratchDatabase('keel_pg_connector');
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await dataSource.query(
      `CREATE TABLE refunds (idempotency_key text PRIMARY KEY, order_id text, amount numeric)`,
    );
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const context = {
    idempotencyKey: 'wf-9:refund:run1',
    timeoutMs: 1000,
    caseId: 'c',
    tenant: 't',
    correlationId: 'c',
  };

  it('runs a named statement once per idempotency key, the key read from the transaction setting', async () => {
    const file = join(folder, 'statements.yaml');
    writeFileSync(
      file,
      [
        'recordRefund: >-',
        "  INSERT INTO refunds (idempotency_key, order_id, amount) VALUES (current_setting('keel.idempotency_key'), $1, $2)",
        '  ON CONFLICT (idempotency_key) DO NOTHING RETURNING order_id',
        '',
      ].join('\n'),
    );
    const connector = new PostgresConnector(dataSource, loadPostgresStatements(file));
    const call = { type: 'postgres' as const, statement: 'recordRefund', params: ['o-1', 12.5] };

    await expect(connector.execute(call, context)).resolves.toEqual({
      outcome: 'succeeded',
      output: { rows: [{ order_id: 'o-1' }] },
    });
    await expect(connector.execute(call, context)).resolves.toEqual({
      outcome: 'succeeded',
      output: { rows: [] },
    });
    const rows = await dataSource.query<unknown[]>(`SELECT * FROM refunds`);
    expect(rows).toHaveLength(1);
  });

  it('fails for good on a statement that is not registered', async () => {
    const connector = new PostgresConnector(dataSource, {});
    await expect(
      connector.execute({ type: 'postgres', statement: 'dropAll', params: [] }, context),
    ).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
    });
  });

  it('refuses a statements file that is not a name → SQL map, naming the file', () => {
    const file = join(folder, 'bad.yaml');
    writeFileSync(file, 'recordRefund: 42\n');
    expect(() => loadPostgresStatements(file)).toThrow(/bad\.yaml: recordRefund: /);
  });
});
