import { workflow } from '@keel/workflow-engine';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import { orchestration, owner, pickThenSend } from './orchestration.fixture';

const ship = workflow('ship', 1)
  .task('book', {
    connector: { type: 'http', service: 'carrier', method: 'POST', path: '/book' },
    next: 'cool',
  })
  .wait('cool', { durationMs: 60_000, next: 'done' })
  .end('done')
  .build();

const picked = { type: 'task.succeeded', stepId: 'pick', run: 1, attempt: 1, output: {} } as const;
const noTurn = { finished: [], claim: 0, leaseGraceMs: 100 };

describe('WorkflowExecutor over in-memory repositories', () => {
  it('starts an instance: the row, its first task, the transition and its events, in one transaction', async () => {
    const { repositories, outbox, transactions, start } = orchestration([ship]);

    expect(await start('ship-1', 'ship')).toEqual({ instanceId: 'ship-1', status: 'running' });

    expect(transactions.opened).toBe(1);
    expect(repositories.calls).toEqual([
      'definitions.newestVersion(ship)',
      'instances.insert(ship-1)',
      'tombstones.find(ship-1)',
      'tasks.enqueue(ship-1)',
      'transitions.append(ship-1)',
    ]);
    expect(repositories.taskRows).toMatchObject([
      { instanceId: 'ship-1', stepId: 'book', run: 1, attempt: 1, status: 'pending' },
    ]);
    expect(repositories.instanceRows.get('ship-1')?.owner).toEqual(owner);
    expect(outbox.events.map(({ event }) => event.subject)).not.toHaveLength(0);
    expect(outbox.events.every(({ event }) => event.subject === owner.caseId)).toBe(true);
  });

  it('names the release in force on every instance it starts, and the version that release names', async () => {
    const ship2 = { ...ship, version: 2 };
    const { repositories, registry, start } = orchestration([ship, ship2]);
    await start('before', 'ship');
    registry.follow({ id: 'release-7', versions: new Map([['ship', 1]]) });
    await start('under-7', 'ship');

    expect(repositories.instanceRows.get('before')).toMatchObject({ release: null });
    expect(repositories.instanceRows.get('before')?.state.workflow.version).toBe(2);
    expect(repositories.instanceRows.get('under-7')).toMatchObject({ release: 'release-7' });
    expect(repositories.instanceRows.get('under-7')?.state.workflow.version).toBe(1);
  });

  it('takes a redelivered start as already started, queuing nothing again', async () => {
    const { repositories, start } = orchestration([ship]);
    await start('ship-1', 'ship');

    expect(await start('ship-1', 'ship')).toMatchObject({ ignored: { code: 'already-started' } });
    expect(repositories.taskRows).toHaveLength(1);
    expect(repositories.transitionRows).toHaveLength(1);
  });

  it('recognises a start of an instance retention deleted and takes its row back', async () => {
    const { repositories, start } = orchestration([ship]);
    repositories.tombstoneRows.set('ship-1', { status: 'completed', finishedAt: new Date('2026-11-01Z') });

    expect(await start('ship-1', 'ship')).toMatchObject({
      status: 'completed',
      ignored: { code: 'already-started' },
    });
    expect(repositories.calls).toContain('instances.discard(ship-1)');
    expect(repositories.instanceRows.size).toBe(0);
    expect(repositories.taskRows).toHaveLength(0);
  });

  it('starts a run of instances with one statement per table, however many, an id twice starting once', async () => {
    const { repositories, transactions, executor, outbox, start } = orchestration([ship]);
    await start('old', 'ship');
    repositories.tombstoneRows.set('pruned', { status: 'completed', finishedAt: new Date('2026-11-01Z') });
    repositories.calls.length = 0;
    const request = (instanceId: string) => ({ instanceId, workflow: 'ship', input: {}, owner });

    const outcomes = await transactions.run((manager) =>
      executor.startAll(manager, ['a', 'old', 'b', 'a', 'pruned'].map(request)),
    );

    expect(outcomes).toEqual([
      { instanceId: 'a', status: 'running' },
      {
        instanceId: 'old',
        status: 'running',
        ignored: { code: 'already-started', message: 'instance already exists' },
      },
      { instanceId: 'b', status: 'running' },
      {
        instanceId: 'a',
        status: 'running',
        ignored: { code: 'already-started', message: 'instance already exists' },
      },
      {
        instanceId: 'pruned',
        status: 'completed',
        ignored: expect.objectContaining({ code: 'already-started' }),
      },
    ]);
    // The newest version of the workflow is read once for the five unversioned starts.
    expect(repositories.calls).toEqual([
      'definitions.newestVersion(ship)',
      'instances.insert(a,old,b,pruned)',
      'tombstones.find(a,old,b,pruned)',
      'instances.discard(pruned)',
      'instances.lock(old)',
      'tasks.enqueue(a,b)',
      'transitions.append(a,b)',
    ]);
    expect(repositories.taskRows.map(({ instanceId }) => instanceId)).toEqual(['old', 'a', 'b']);
    expect([...repositories.instanceRows.keys()]).toEqual(['old', 'a', 'b']);
    expect(outbox.events.filter(({ event }) => event.id.startsWith('a/'))).not.toHaveLength(0);
  });

  it('locks the instance before it lets the caller claim the row the input comes from', async () => {
    const { repositories, transactions, executor, start } = orchestration([ship]);
    await start('ship-1', 'ship');
    repositories.calls.length = 0;

    const outcome = await transactions.run((manager) =>
      executor.apply(manager, 'ship-1', { type: 'cancel', reason: 'customer', by: 'ops' }, undefined, () => {
        repositories.log('admit');
        return Promise.resolve(false);
      }),
    );

    expect(outcome).toMatchObject({ ignored: { code: 'stale' } });
    expect(repositories.calls).toEqual(['instances.lock(ship-1)', 'admit']);
  });

  it('on a terminal status cancels what the instance waited for and abandons its queued attempts', async () => {
    const { repositories, transactions, executor, start } = orchestration([ship]);
    await start('ship-1', 'ship');

    const outcome = await transactions.run((manager) =>
      executor.apply(manager, 'ship-1', { type: 'cancel', reason: 'customer', by: 'ops' }),
    );

    expect(outcome.status).toBe('cancelled');
    expect(repositories.calls).toEqual(
      expect.arrayContaining(['timers.cancelAll(ship-1)', 'tasks.abandonQueued(ship-1)']),
    );
    expect(repositories.taskRows.map((task) => task.status)).toEqual(['abandoned']);
  });

  it('refuses an input for an unknown instance with a dead-letter code, and ignores one for a pruned instance', async () => {
    const { repositories, transactions, executor } = orchestration([ship]);
    const cancel = (id: string) =>
      transactions.run((manager) => executor.apply(manager, id, { type: 'cancel', reason: 'r', by: 'ops' }));

    const unknown = await cancel('nope').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(WorkflowRuntimeError);
    expect(unknown).toMatchObject({
      code: 'unknown-instance',
      consumerHandling: 'dead-letter',
      httpStatus: 404,
    });

    repositories.tombstoneRows.set('gone', { status: 'completed', finishedAt: new Date('2026-11-01Z') });
    expect(await cancel('gone')).toMatchObject({ status: 'completed', ignored: { code: 'terminal' } });
  });

  describe('applyAllKept: a group on the states this process committed, in one statement', () => {
    it('writes without a lock of its own, in a checkpoint that expects each instance still at its kept seq', async () => {
      const { repositories, transactions, executor, start } = orchestration([pickThenSend]);
      await start('r-1', 'pick-then-send');
      repositories.keepCommitted('r-1');
      const seq = repositories.instanceRows.get('r-1')?.state.seq ?? -1;
      repositories.calls.length = 0;

      const applied = await executor.applyAllKept(
        transactions.outside,
        [{ instanceId: 'r-1', input: picked }],
        noTurn,
      );

      expect(applied?.outcomes).toEqual([{ instanceId: 'r-1', status: 'running' }]);
      expect(repositories.calls).toEqual([
        'instances.kept(r-1)',
        'checkpoints.expect(r-1)',
        'instances.update(r-1)',
        'tasks.enqueue(r-1)',
        'transitions.append(r-1)',
      ]);
      expect(repositories.instanceRows.get('r-1')?.state.seq).toBe(seq + 1);
    });

    it('writes nothing and answers undefined when another writer moved an instance on, or one is not kept', async () => {
      const { repositories, transactions, executor, start } = orchestration([pickThenSend]);
      for (const id of ['r-1', 'r-2']) await start(id, 'pick-then-send');
      repositories.keepCommitted('r-1');
      await transactions.run((manager) =>
        executor.apply(manager, 'r-1', { type: 'cancel', reason: 'operator' }),
      );
      const moved = structuredClone(repositories.instanceRows.get('r-1'));
      const transitions = repositories.transitionRows.length;

      expect(
        await executor.applyAllKept(transactions.outside, [{ instanceId: 'r-1', input: picked }], noTurn),
      ).toBeUndefined();
      expect(
        await executor.applyAllKept(transactions.outside, [{ instanceId: 'r-2', input: picked }], noTurn),
      ).toBeUndefined();
      expect(repositories.instanceRows.get('r-1')).toEqual(moved);
      expect(repositories.transitionRows).toHaveLength(transitions);
    });

    it('leaves a transition that arms a timer to the locking way (a timer row is a statement of its own)', async () => {
      const { repositories, transactions, executor, start } = orchestration([ship]);
      await start('ship-1', 'ship');
      repositories.keepCommitted('ship-1');
      repositories.calls.length = 0;
      const booked = { type: 'task.succeeded', stepId: 'book', run: 1, attempt: 1, output: {} } as const;

      expect(
        await executor.applyAllKept(transactions.outside, [{ instanceId: 'ship-1', input: booked }], noTurn),
      ).toBeUndefined();
      expect(repositories.calls).toEqual(['instances.kept(ship-1)']);
    });
  });
});
