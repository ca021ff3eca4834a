import { topics } from '@keel/contracts';
import {
  KafkaEventRunContext,
  MessagingSchema,
  OutboxWriter,
  messagingTablesMigration,
} from '@keel/messaging';
import { serviceSchemaMigration } from '@keel/persistence';
import { sampleEvent, scratchDatabase, type ScratchDatabase } from '@keel/testing';
import { workflow } from '@keel/workflow-engine';
import {
  DataSourceTransactions,
  DefinitionRegistry,
  RetentionPruner,
  WorkflowExecutor,
  WorkflowInboxController,
  WorkflowInstanceRelease1764300000000,
  WorkflowInstanceTombstones1764000000500,
  WorkflowInstancesController,
  WorkflowTables1764000000100,
  WorkflowTaskTimeouts1764000000300,
  WorkflowTaskTraceContext1765000000000,
  postgresWorkflowRepositories,
} from '@keel/workflow-runtime';
import { DataSource } from 'typeorm';

const hour = 3_600_000;
const repositories = postgresWorkflowRepositories('workflow');

describe('RetentionPruner on Postgres', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await scratchDatabase('keel_pruner');
    dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [
        serviceSchemaMigration('workflow'),
        messagingTablesMigration('workflow'),
        WorkflowTables1764000000100,
        WorkflowTaskTimeouts1764000000300,
        WorkflowInstanceTombstones1764000000500,
        WorkflowInstanceRelease1764300000000,
        WorkflowTaskTraceContext1765000000000,
      ],
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
        finishedHoursAgo === null ? null : new Date(Date.now() - finishedHoursAgo * hour),
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

  async function count(sql: string, params: unknown[]): Promise<number> {
    const [row] = await dataSource.query<Array<{ n: number }>>(`SELECT (${sql})::int AS n`, params);
    return Number(row?.n);
  }

  it('deletes finished instances past retention with their history and tasks, leaving a tombstone, and keeps the rest', async () => {
    await instance('old-finished', 48);
    await instance('recent-finished', 1);
    await instance('still-running', null);

    const pruner = new RetentionPruner({
      transactions: new DataSourceTransactions(dataSource),
      tombstones: repositories.tombstones,
      retentionMs: 24 * hour,
      tombstoneRetentionMs: 168 * hour,
    });
    expect(await pruner.tick()).toBe(false);

    const ids = await dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM workflow.instances ORDER BY id`,
    );
    expect(ids.map((row) => row.id)).toEqual(['recent-finished', 'still-running']);
    expect(
      await count(
        `SELECT (SELECT count(*) FROM workflow.transitions WHERE instance_id = $1)
              + (SELECT count(*) FROM workflow.tasks WHERE instance_id = $1)`,
        ['old-finished'],
      ),
    ).toBe(0);
    const tombstones = await dataSource.query<Array<{ instance_id: string; status: string }>>(
      `SELECT instance_id, status FROM workflow.instance_tombstones`,
    );
    expect(tombstones).toEqual([{ instance_id: 'old-finished', status: 'completed' }]);
  });

  it('keeps a tombstone for the deduplication window, then deletes it', async () => {
    await dataSource.query(
      `INSERT INTO workflow.instance_tombstones (instance_id, workflow_name, workflow_version, status, finished_at, pruned_at)
       VALUES ('pruned-long-ago', 'w', 1, 'completed', now() - interval '20 days', now() - interval '8 days'),
              ('pruned-lately', 'w', 1, 'completed', now() - interval '13 days', now() - interval '6 days')`,
    );

    await new RetentionPruner({
      transactions: new DataSourceTransactions(dataSource),
      tombstones: repositories.tombstones,
      retentionMs: 24 * hour,
      tombstoneRetentionMs: 168 * hour,
    }).tick();

    expect(
      await count(`SELECT count(*) FROM workflow.instance_tombstones WHERE instance_id = ANY($1)`, [
        ['pruned-long-ago', 'pruned-lately'],
      ]),
    ).toBe(1);
    expect(
      await count(`SELECT count(*) FROM workflow.instance_tombstones WHERE instance_id = $1`, [
        'pruned-lately',
      ]),
    ).toBe(1);
  });

  it('a start of an instance retention deleted is recognised and runs nothing again, from Kafka or the API; later commands are ignored', async () => {
    const registry = new DefinitionRegistry(repositories.definitions);
    registry.register(
      workflow('ship', 1)
        .task('book', {
          connector: { type: 'http', service: 'carrier', method: 'POST', path: '/book' },
          next: 'done',
        })
        .end('done')
        .build(),
    );
    await dataSource.transaction((manager) => registry.synchronize(manager));
    const executor = new WorkflowExecutor({
      registry,
      repositories,
      outbox: new OutboxWriter(new MessagingSchema('workflow')),
      topics,
      now: () => new Date(),
      source: 'urn:keel:workflow',
    });
    const operator = { subject: 'ops', tenant: 't', roles: ['operator'] } as const;
    const api = new WorkflowInstancesController(
      new DataSourceTransactions(dataSource),
      executor,
      registry,
      repositories,
    );
    const inbox = new WorkflowInboxController(executor);
    const startBody = {
      instanceId: 'shipment-1',
      workflow: 'ship',
      caseId: 'case-1',
      tenant: 't',
      input: {},
    };
    const tasksOf = () => count(`SELECT count(*) FROM workflow.tasks WHERE instance_id = $1`, ['shipment-1']);

    expect(await api.start(operator, startBody)).toEqual({ instanceId: 'shipment-1', status: 'running' });
    expect(await tasksOf()).toBe(1);
    await dataSource.transaction((manager) =>
      executor.apply(manager, 'shipment-1', { type: 'cancel', reason: 'customer', by: 'ops' }),
    );
    await dataSource.query(
      `UPDATE workflow.instances SET finished_at = now() - interval '2 days' WHERE id = 'shipment-1'`,
    );
    await new RetentionPruner({
      transactions: new DataSourceTransactions(dataSource),
      tombstones: repositories.tombstones,
      retentionMs: 24 * hour,
      tombstoneRetentionMs: 168 * hour,
    }).tick();

    // The command that started it, read again (a replay; its processed id long pruned), and the API call repeated.
    const replayed = sampleEvent(topics.workflowCommands, {
      command: 'start',
      instanceId: 'shipment-1',
      template: 'ship',
      input: {},
    });
    await dataSource.transaction((manager) =>
      inbox.onCommands(
        [replayed],
        new KafkaEventRunContext([{ manager, topic: 't', partition: 0, attempt: 1 }]),
      ),
    );
    const repeated = await api.start(operator, startBody);
    // The commands that followed it are replayed too: they find a finished instance, not a missing one.
    const cancelReplayed = sampleEvent(topics.workflowCommands, {
      command: 'cancel',
      instanceId: 'shipment-1',
      reason: 'customer',
    });
    await dataSource.transaction((manager) =>
      inbox.onCommands(
        [cancelReplayed],
        new KafkaEventRunContext([{ manager, topic: 't', partition: 0, attempt: 1 }]),
      ),
    );

    expect(repeated).toEqual({
      instanceId: 'shipment-1',
      status: 'cancelled',
      ignored: {
        code: 'already-started',
        message: expect.stringMatching(/^instance cancelled on .+ and was pruned; it is not started again$/),
      },
    });
    expect(await count(`SELECT count(*) FROM workflow.instances WHERE id = $1`, ['shipment-1'])).toBe(0);
    expect(await tasksOf()).toBe(0);
  });
});
