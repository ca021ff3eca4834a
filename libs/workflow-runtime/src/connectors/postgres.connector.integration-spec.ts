import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultProxy, scratchDatabase, type ScratchDatabase } from '@keel/testing';
import {
  loadPostgresStatements,
  PostgresConnector,
  type PostgresStatement,
  WorkflowTaskRole1764000000200,
  workflowTaskRole,
} from '@keel/workflow-runtime';
import { DataSource } from 'typeorm';

describe('PostgresConnector on Postgres', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;
  const folder = mkdtempSync(join(tmpdir(), 'keel-statements-'));

  beforeAll(async () => {
    database = await scratchDatabase('keel_pg_connector');
    dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [WorkflowTaskRole1764000000200],
    }).initialize();
    await dataSource.query(`CREATE SCHEMA workflow`);
    await dataSource.query(`CREATE TABLE workflow.instances (id text PRIMARY KEY)`);
    await dataSource.runMigrations();
    await dataSource.query(
      `CREATE TABLE refunds (idempotency_key text PRIMARY KEY, order_id text NOT NULL, amount numeric CHECK (amount > 0))`,
    );
    // What a deployment does for its own tables: the task role gets the DML its statements need.
    await dataSource.query(`GRANT SELECT, INSERT ON refunds TO ${workflowTaskRole}`);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const context = {
    idempotencyKey: 'wf-9:refund:run1',
    timeoutMs: 1000,
    workflow: 'refunds',
    caseId: 'c',
    tenant: 't',
    correlationId: 'c',
  };
  const allowed = (sql: string): PostgresStatement => ({ sql, templates: ['refunds'] });
  const run = (statements: Record<string, PostgresStatement>, statement: string, params: unknown[] = []) =>
    new PostgresConnector(dataSource, statements).execute(
      { type: 'postgres', statement, params: params as never },
      context,
    );

  it('runs a named statement once per idempotency key, the key read from the transaction setting', async () => {
    const file = join(folder, 'statements.yaml');
    writeFileSync(
      file,
      [
        'recordRefund:',
        '  templates: [refunds]',
        '  sql: >-',
        "    INSERT INTO refunds (idempotency_key, order_id, amount) VALUES (current_setting('keel.idempotency_key'), $1, $2)",
        '    ON CONFLICT (idempotency_key) DO NOTHING RETURNING order_id',
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

  it('fails for good on a statement that is not registered, or not allowed for the template', async () => {
    await expect(run({}, 'dropAll')).resolves.toMatchObject({ outcome: 'failed', retryable: false });
    await expect(
      run({ count: { sql: 'SELECT count(*) FROM refunds', templates: ['billing'] } }, 'count'),
    ).resolves.toEqual({
      outcome: 'failed',
      error: "statement 'count' is not allowed for template 'refunds'",
      retryable: false,
    });
  });

  it('runs statements as a role that can change no structure and read none of the workflow tables', async () => {
    for (const sql of [
      'CREATE TABLE public.sneaky (id int)',
      'DROP TABLE refunds',
      'ALTER TABLE refunds ADD COLUMN note text',
      'TRUNCATE refunds',
      'SELECT * FROM workflow.instances',
      'CREATE SCHEMA sneaky',
    ]) {
      await expect(run({ attempt: allowed(sql) }, 'attempt')).resolves.toMatchObject({
        outcome: 'failed',
        retryable: false,
        error: expect.stringMatching(/permission denied|must be owner/) as unknown,
      });
    }
    expect(await dataSource.query(`SELECT to_regclass('public.sneaky') AS t`)).toEqual([{ t: null }]);
  });

  it('classifies failures: a constraint or bad data is permanent, a statement past its budget times out', async () => {
    const insert = allowed(
      "INSERT INTO refunds (idempotency_key, order_id, amount) VALUES (current_setting('keel.idempotency_key') || $1, $2, $3)",
    );
    await expect(run({ insert }, 'insert', ['-a', null, 1])).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
      error: expect.stringContaining('null value') as unknown,
    });
    await expect(run({ insert }, 'insert', ['-b', 'o-2', -5])).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
    });
    await expect(run({ insert }, 'insert', ['-c', 'o-2', 'lots'])).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
    });
    await expect(
      new PostgresConnector(dataSource, { slow: allowed('SELECT pg_sleep(5)') }).execute(
        { type: 'postgres', statement: 'slow', params: [] },
        { ...context, timeoutMs: 100 },
      ),
    ).resolves.toEqual({ outcome: 'timedOut' });
  });

  it('retries when the connection to the database is lost', async () => {
    // Through a proxy that drops the open connection and refuses new ones: terminating the backend instead
    // raced the pool, which at times noticed the dead client first and reconnected, so the call succeeded.
    const proxy = await FaultProxy.inFrontOf(database.url);
    const severed = await new DataSource({
      type: 'postgres',
      url: proxy.url(database.url),
      extra: { max: 1 },
    }).initialize();
    try {
      await severed.query('SELECT 1');
      proxy.refuse();
      proxy.cut();
      await expect(
        new PostgresConnector(severed, { ping: allowed('SELECT 1') }).execute(
          { type: 'postgres', statement: 'ping', params: [] },
          context,
        ),
      ).resolves.toMatchObject({ outcome: 'failed', retryable: true });
    } finally {
      await severed.destroy();
      await proxy.close();
    }
  });

  it('refuses a statements file without the templates allowed to run each statement, naming the file', () => {
    const file = join(folder, 'bad.yaml');
    writeFileSync(file, 'recordRefund: SELECT 1\ncount: { sql: SELECT 1, templates: [] }\n');
    expect(() => loadPostgresStatements(file)).toThrow(
      /bad\.yaml: recordRefund: .*; count\.templates: name at least one template/,
    );
  });
});
