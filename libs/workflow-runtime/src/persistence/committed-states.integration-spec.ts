import { scratchDatabase } from '@keel/testing';
import type { WorkflowInstanceState } from '@keel/workflow-engine';
import { RuntimeFixture, ScriptedConnector, oneTaskWorkflow } from '../execution/workflow-runtime.fixture';
import { checkpointCommits, postgresWorkflowRepositories } from './postgres-workflow-repositories';

/**
 * Locking an instance this process moved last reads its `seq` only and takes the state it committed; any
 * other writer moves `seq` on, and a state whose transaction rolled back is never taken.
 */
describe('committed states kept by the Postgres repositories', () => {
  const held = oneTaskWorkflow('held');
  const repositories = postgresWorkflowRepositories('workflow');
  const commits = checkpointCommits(() => undefined);
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    const connector = new ScriptedConnector(() => Promise.resolve({ outcome: 'succeeded', output: {} }));
    fixture = await RuntimeFixture.create(await scratchDatabase('keel_wf_states'), [held], [connector]);
    fixture.dataSource.subscribers.push(commits);
    for (const id of ['h-1', 'h-2', 'h-3']) await fixture.start(id, 'held');
  });
  afterAll(() => fixture.close());

  const locked = (id = 'h-1') =>
    fixture.dataSource.transaction(async (manager) => {
      const state = (await repositories.instances.lockAll(manager, [id])).get(id)?.state;
      if (!state) throw new Error(`${id} is not stored`);
      return state;
    });
  // The task worker's checkpoints are the ones kept: they carry its turn.
  const worker = { finished: [], claim: 0, leaseGraceMs: 0 };
  const checkpoint = (state: WorkflowInstanceState) =>
    fixture.dataSource.transaction((manager) =>
      repositories.checkpoints.write(manager, { states: [state], tasks: [], log: [], finished: [], worker }),
    );
  // A change of the row's document that no transition made: it shows which copy a lock answered with.
  const markStoredDocument = (id = 'h-1') =>
    fixture.dataSource.query(
      `UPDATE workflow.instances SET state = jsonb_set(state, '{marked}', 'true') WHERE id = $1`,
      [id],
    );

  it('answers with the state it committed while the row keeps its seq, and with the row once another writer moved it', async () => {
    const stored = await locked();
    const moved = { ...stored, seq: stored.seq + 1 };
    await checkpoint(moved);
    await markStoredDocument();

    expect(await locked()).toEqual(moved);

    await fixture.dataSource.query(`UPDATE workflow.instances SET seq = seq + 1 WHERE id = 'h-1'`);
    expect(await locked()).toMatchObject({ marked: true, seq: moved.seq });
  });

  it('never answers with a state whose transaction rolled back', async () => {
    const stored = await locked('h-2');
    const next = stored.seq + 1;
    const rolledBack = new Error('rolled back');
    await expect(
      fixture.dataSource.transaction(async (manager) => {
        await repositories.checkpoints.write(manager, {
          states: [{ ...stored, seq: next }],
          tasks: [],
          log: [],
          finished: [],
          worker,
        });
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    // Another writer then takes the row to the same seq with a document of its own.
    await markStoredDocument('h-2');
    await fixture.dataSource.query(
      `UPDATE workflow.instances SET seq = $1, state = jsonb_set(state, '{seq}', to_jsonb($1::int)) WHERE id = 'h-2'`,
      [next],
    );

    expect(await locked('h-2')).toMatchObject({ marked: true, seq: next });
  });

  it('writes a transition of a kept state in one statement without a transaction while the seq holds, and nothing once another writer moved it', async () => {
    const stored = await locked('h-3');
    const moved = { ...stored, seq: stored.seq + 1 };
    await checkpoint(moved);
    expect(repositories.instances.kept(['h-3'])?.get('h-3')?.state).toEqual(moved);

    // One transition on the kept state, written outside a transaction, expecting the seq it was kept at.
    const moveOn = (from: WorkflowInstanceState) => {
      const to = { ...from, seq: from.seq + 1 };
      return repositories.checkpoints.write(fixture.dataSource.manager, {
        states: [to],
        tasks: [],
        log: [{ state: to, input: { type: 'cancel' }, events: [] }],
        finished: [],
        worker,
        expected: new Map([['h-3', from.seq]]),
      });
    };
    expect(await moveOn(moved)).toEqual({ written: true, claimed: [], attemptsLeftQueued: false });
    const next = { ...moved, seq: moved.seq + 1 };
    expect(repositories.instances.kept(['h-3'])?.get('h-3')?.state).toEqual(next);

    await fixture.dataSource.query(`UPDATE workflow.instances SET seq = seq + 1 WHERE id = 'h-3'`);
    expect(await moveOn(next)).toEqual({ written: false, claimed: [], attemptsLeftQueued: false });
    const [row] = await fixture.dataSource.query<Array<{ seq: number; logged: number }>>(
      `SELECT seq, (SELECT count(*)::int FROM workflow.transitions WHERE instance_id = 'h-3') AS logged
       FROM workflow.instances WHERE id = 'h-3'`,
    );
    // The other writer's seq; the log holds the start's row and the first write's, not the refused one's.
    expect(row).toEqual({ seq: next.seq + 1, logged: 2 });
  });

  it("keeps only the task worker's checkpoints: a start or another writer's checkpoint may sit under a savepoint no commit event reports", async () => {
    const first = await locked('h-1');
    const state = { ...first, instanceId: 'h-4', seq: 0 };
    const owner = { caseId: 'case-h-4', tenant: 'acme', correlationId: 'h-4' };
    await fixture.dataSource.transaction((manager) =>
      repositories.instances.insertAll(manager, [{ state, owner }]),
    );
    await locked('h-4');
    await fixture.dataSource.transaction((manager) =>
      repositories.checkpoints.write(manager, {
        states: [{ ...state, seq: 1 }],
        tasks: [],
        log: [],
        finished: [],
      }),
    );

    expect(repositories.instances.kept(['h-4'])).toBeUndefined();
  });
});
