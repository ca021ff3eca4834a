import { topics } from '@keel/contracts';
import {
  KafkaEventRunContext,
  MessagingSchema,
  OutboxWriter,
  messagingTablesMigration,
} from '@keel/messaging';
import { serviceSchemaMigration } from '@keel/persistence';
import { type ScratchDatabase, sampleEvent, scratchDatabase } from '@keel/testing';
import { type WorkflowDefinition, workflow } from '@keel/workflow-engine';
import {
  DataSourceTransactions,
  DefinitionRegistry,
  TimerPoller,
  WorkflowExecutor,
  WorkflowInboxController,
  WorkflowRuntimeError,
  WorkflowInstanceRelease1764300000000,
  WorkflowInstanceTombstones1764000000500,
  WorkflowTables1764000000100,
  WorkflowTaskTimeouts1764000000300,
  WorkflowTaskTraceContext1765000000000,
  postgresWorkflowRepositories,
} from '@keel/workflow-runtime';
import { DataSource } from 'typeorm';

// Two replicas share one database but not their files: A was deployed with nap@2, B still runs the image
// that only has nap@1 and booted before A stored nap@2.
function nap(version: number): WorkflowDefinition {
  return workflow('nap', version)
    .wait('sleep', { durationMs: 60_000 * version, next: 'done' })
    .end('done')
    .build();
}

const repositories = postgresWorkflowRepositories('workflow');
const owner = { caseId: 'case-1', tenant: 't', correlationId: 'case-1' };
const later = () => new Date(Date.now() + 24 * 3_600_000);

describe('definitions across replicas', () => {
  let database: ScratchDatabase;
  let dataSource: DataSource;

  function replica(definitions: readonly WorkflowDefinition[]) {
    const registry = new DefinitionRegistry(repositories.definitions);
    for (const definition of definitions) registry.register(definition);
    const executor = new WorkflowExecutor({
      registry,
      repositories,
      outbox: new OutboxWriter(new MessagingSchema('workflow')),
      topics,
      now: () => new Date(),
      source: 'urn:keel:workflow',
    });
    const boot = () => dataSource.transaction((manager) => registry.synchronize(manager));
    return {
      registry,
      executor,
      boot,
      timers: new TimerPoller({
        transactions: new DataSourceTransactions(dataSource),
        repositories,
        executor,
        now: later,
      }),
    };
  }

  async function instance(id: string) {
    const [row] = await dataSource.query<Array<{ status: string; workflow_version: number }>>(
      `SELECT status, workflow_version FROM workflow.instances WHERE id = $1`,
      [id],
    );
    return row;
  }

  beforeAll(async () => {
    database = await scratchDatabase('keel_definitions');
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

  it('a replica without the file of a version runs the instances pinned to it, and starts the newest stored version', async () => {
    const b = replica([nap(1)]);
    await b.boot();
    const a = replica([nap(1), nap(2)]);
    await a.boot();

    await dataSource.transaction((manager) =>
      a.executor.start(manager, { instanceId: 'pinned-v2', workflow: 'nap', version: 2, input: {}, owner }),
    );
    // An unversioned start on B takes the newest version any replica stored, as A would.
    await dataSource.transaction((manager) =>
      b.executor.start(manager, { instanceId: 'unversioned', workflow: 'nap', input: {}, owner }),
    );

    expect(await b.timers.tick()).toBe(false);

    expect(await instance('pinned-v2')).toEqual({ status: 'completed', workflow_version: 2 });
    expect(await instance('unversioned')).toEqual({ status: 'completed', workflow_version: 2 });
    expect(
      b.registry
        .list()
        .map(({ version }) => version)
        .sort(),
    ).toEqual([1, 2]);
  });

  it('a start naming a version no replica stored is waited for by the consumer, an unknown name is dead-lettered', async () => {
    const b = replica([nap(1)]);
    await b.boot();
    const inbox = new WorkflowInboxController(b.executor);
    const start = (template: string, templateVersion: number) =>
      dataSource.transaction((manager) =>
        inbox.onCommands(
          [
            sampleEvent(topics.workflowCommands, {
              command: 'start',
              instanceId: `${template}-${templateVersion}`,
              template,
              templateVersion,
              input: {},
            }),
          ],
          new KafkaEventRunContext([{ manager, topic: 't', partition: 0, attempt: 1 }]),
        ),
      );

    const unknownVersion = await start('nap', 9).catch((error: unknown) => error);
    expect(unknownVersion).toBeInstanceOf(WorkflowRuntimeError);
    expect(unknownVersion).toMatchObject({
      code: 'unknown-version',
      consumerHandling: 'wait',
      message: 'no workflow nap@9 stored yet',
    });

    await expect(start('no-such-workflow', 1)).rejects.toMatchObject({
      code: 'unknown-workflow',
      consumerHandling: 'dead-letter',
    });
  });

  it('a timer of an instance whose version cannot be resolved stays scheduled and never stalls the others', async () => {
    const b = replica([nap(1)]);
    await b.boot();
    // Due first, so a poll that stops at the first failure never reaches the good timer behind it.
    await dataSource.query(
      `INSERT INTO workflow.instances (id, workflow_name, workflow_version, status, case_id, tenant, correlation_id, seq, state)
       VALUES ('unresolvable', 'nap', 99, 'running', 'c', 't', 'c', 1, '{"workflow":{"name":"nap","version":99}}')`,
    );
    await dataSource.query(
      `INSERT INTO workflow.timers (instance_id, timer_id, step_id, purpose, due_at)
       VALUES ('unresolvable', 'sleep/1', 'sleep', 'wait', now() - interval '1 hour')`,
    );
    await dataSource.transaction((manager) =>
      b.executor.start(manager, { instanceId: 'behind', workflow: 'nap', version: 1, input: {}, owner }),
    );

    await expect(b.timers.tick()).rejects.toMatchObject({ code: 'unknown-version' });

    expect(await instance('behind')).toEqual({ status: 'completed', workflow_version: 1 });
    const [timer] = await dataSource.query<Array<{ status: string }>>(
      `SELECT status FROM workflow.timers WHERE instance_id = 'unresolvable'`,
    );
    expect(timer?.status).toBe('scheduled');
  });
});
