import { scratchDatabase, type ScratchDatabase } from '@keel/testing';
import { RetentionPruner, WorkflowTables1764000000100 } from '@keel/workflow-runtime';
import { DataSource } from 'typeorm';

describe('RetentionPruner on Postgres', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await scratchDatabase('keel_pruner');
    dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [WorkflowTables1764000000100],
    }).initialize();
    await dataSource.runMigrations();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  async function instance(id: string, finishedHoursAgo: number | null): Promise<void> {
    await dataSource.query(
      `INSERT INTO workflow.instances (id, workflow_name, workflow_version, status, case_id, tenant, correlation_id, seq, state, finished_at)
       VALUES ($1, 'w', 1, $2, 'c', 't', 'c', 1, '{}', $3)`,
      [
        id,
        finishedHoursAgo === null ? 'running' : 'completed',
        finishedHoursAgo === null ? null : new Date(Date.now() - finishedHoursAgo * 3_600_000),
      ],
    );
    await dataSource.query(
      `INSERT INTO workflow.transitions (instance_id, seq, input, status, events) VALUES ($1, 1, '{}', 'x', '[]')`,
      [id],
    );
    await dataSource.query(
      `INSERT INTO workflow.tasks (instance_id, kind, step_id, run, attempt, idempotency_key, call, timeout_ms, status)
       VALUES ($1, 'task', 's', 1, 1, $1, '{}', 1000, 'done')`,
      [id],
    );
  }

  it('deletes finished instances past retention with their history and tasks, and keeps the rest', async () => {
    await instance('old-finished', 48);
    await instance('recent-finished', 1);
    await instance('still-running', null);

    const pruner = new RetentionPruner({ dataSource, retentionMs: 24 * 3_600_000 });
    expect(await pruner.tick()).toBe(false);

    const ids = await dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM workflow.instances ORDER BY id`,
    );
    expect(ids.map((row) => row.id)).toEqual(['recent-finished', 'still-running']);
    const orphans = await dataSource.query<Array<{ n: number }>>(
      `SELECT (SELECT count(*) FROM workflow.transitions WHERE instance_id = 'old-finished')
            + (SELECT count(*) FROM workflow.tasks WHERE instance_id = 'old-finished') AS n`,
    );
    expect(Number(orphans[0]?.n)).toBe(0);
  });
});
