import { workflow } from './builder';
import { type HttpCall } from './definition.schema';
import { recoveryCommands } from './recovery';
import { Harness, commandsOf, eventsOf } from './transition.harness';

function post(path: string): HttpCall {
  return { type: 'http', service: 'svc', method: 'POST', path };
}
function remove(path: string): HttpCall {
  return { type: 'http', service: 'svc', method: 'DELETE', path };
}

const fanOut = workflow('fan-out', 1)
  .task('prepare', {
    connector: post('/prepare'),
    compensate: remove('/prepare/{{ steps.prepare.output.id }}'),
    next: 'fan',
  })
  .parallel('fan', {
    branches: [
      (branch) =>
        branch
          .task('pack', {
            connector: post('/pack'),
            compensate: remove('/pack/{{ steps.pack.output.id }}'),
            next: 'packed',
          })
          .end('packed'),
      (branch) =>
        branch
          .approval('signOff', { title: 'Sign off', approverRole: 'qa', timeoutMs: 60_000, next: 'bill' })
          .task('bill', {
            connector: post('/bill'),
            compensate: remove('/bill/{{ steps.bill.output.id }}'),
            next: 'billed',
          })
          .end('billed'),
    ],
    next: 'ship',
  })
  .task('ship', { connector: post('/ship'), next: 'done' })
  .end('done')
  .build();

async function forked(): Promise<Harness> {
  const harness = new Harness(fanOut);
  await harness.start();
  await harness.succeed('prepare', { id: 'p-1' });
  return harness;
}

describe('transition: parallel steps', () => {
  it('starts every branch in its own token and parks the parent on the join', async () => {
    const harness = new Harness(fanOut);
    await harness.start();
    const result = await harness.succeed('prepare', { id: 'p-1' });

    expect(commandsOf(result, 'executeTask').map((command) => command.stepId)).toEqual(['pack']);
    expect(commandsOf(result, 'requestApproval').map((command) => command.stepId)).toEqual(['signOff']);
    expect(result.state.tokens).toEqual({
      root: { id: 'root', scope: 'root', stepId: 'fan', status: 'joining' },
      'root/fan[0]': {
        id: 'root/fan[0]',
        scope: 'fan[0]',
        stepId: 'pack',
        status: 'active',
        parentId: 'root',
      },
      'root/fan[1]': {
        id: 'root/fan[1]',
        scope: 'fan[1]',
        stepId: 'signOff',
        status: 'active',
        parentId: 'root',
      },
    });
  });

  it('an approval in one branch suspends only that branch, survives a crash and resumes only that branch', async () => {
    const harness = await forked();
    const packed = await harness.succeed('pack', { id: 'k-1' });
    expect(eventsOf(packed)).toEqual(['task.succeeded', 'branch.completed']);
    expect(packed.state.tokens['root/fan[0]']?.status).toBe('completed');
    expect(packed.state.tokens.root?.status).toBe('joining');
    expect(packed.state.status).toBe('waiting');

    harness.crashAndReload();
    expect(recoveryCommands(fanOut, harness.current)).toEqual([
      {
        type: 'scheduleTimer',
        timerId: 'signOff:run1:approvalTimeout:initial',
        dueAt: '2025-03-01T08:01:00.000Z',
        purpose: 'approvalTimeout',
        stepId: 'signOff',
      },
      expect.objectContaining({ type: 'requestApproval', stepId: 'signOff', run: 1, approverRole: 'qa' }),
    ]);

    const granted = await harness.send({
      type: 'approval.granted',
      stepId: 'signOff',
      run: 1,
      by: 'qa-lead',
    });
    expect(commandsOf(granted, 'executeTask').map((command) => command.stepId)).toEqual(['bill']);
    expect(granted.state.executions.pack).toEqual(packed.state.executions.pack);
    expect(granted.state.tokens['root/fan[0]']).toEqual(packed.state.tokens['root/fan[0]']);

    const joined = await harness.succeed('bill', { id: 'b-1' });
    expect(eventsOf(joined)).toEqual([
      'task.succeeded',
      'branch.completed',
      'parallel.joined',
      'task.issued',
    ]);
    expect(Object.keys(joined.state.tokens)).toEqual(['root']);
    expect((await harness.succeed('ship')).state.status).toBe('completed');
  });

  it('a failing branch withdraws the others and compensates across branches in reverse completion order', async () => {
    const harness = await forked();
    await harness.send({ type: 'approval.granted', stepId: 'signOff', run: 1, by: 'qa' });
    await harness.succeed('bill', { id: 'b-1' });
    const failed = await harness.fail('pack', false);

    expect(commandsOf(failed, 'executeCompensation').map((command) => command.stepId)).toEqual(['bill']);
    await harness.compensated('bill');
    const last = await harness.compensated('prepare');
    expect(last.state.status).toBe('compensated');
    expect(
      harness.results
        .flatMap((result) => commandsOf(result, 'executeCompensation'))
        .map((command) => command.call),
    ).toEqual([remove('/bill/b-1'), remove('/prepare/p-1')]);
  });

  it('a rejection in one branch waits for the compensable task in flight in another, then compensates it first', async () => {
    const harness = await forked();
    const rejected = await harness.send({ type: 'approval.rejected', stepId: 'signOff', run: 1, by: 'qa' });
    expect(rejected.state.status).toBe('compensating');
    expect(eventsOf(rejected)).toEqual(['approval.rejected', 'workflow.unwinding', 'compensation.draining']);
    expect(recoveryCommands(fanOut, rejected.state)).toEqual([
      expect.objectContaining({ type: 'executeTask', stepId: 'pack', idempotencyKey: 'inst-1:pack:run1' }),
    ]);

    const landed = await harness.succeed('pack', { id: 'k-9' });
    expect(commandsOf(landed, 'executeCompensation').map((command) => command.call)).toEqual([
      remove('/pack/k-9'),
    ]);
    await harness.compensated('pack');
    expect((await harness.compensated('prepare')).state.status).toBe('compensated');
  });

  it('a task failure in one branch withdraws the pending approval of another', async () => {
    const harness = await forked();
    const failed = await harness.fail('pack', false);
    expect(eventsOf(failed)).toContain('approval.withdrawn');
    expect(failed.state.approvals).toEqual({});
    expect(commandsOf(failed, 'cancelTimer')).toEqual([
      { type: 'cancelTimer', timerId: 'signOff:run1:approvalTimeout:initial' },
    ]);
    expect(commandsOf(failed, 'executeCompensation').map((command) => command.stepId)).toEqual(['prepare']);
  });

  it('rerunFrom inside a finished branch reopens only that branch', async () => {
    const harness = await forked();
    await harness.succeed('pack', { id: 'k-1' });
    const rerun = await harness.send({ type: 'rerunFrom', stepId: 'pack', by: 'operator' });
    expect(commandsOf(rerun, 'executeTask')).toEqual([expect.objectContaining({ stepId: 'pack', run: 2 })]);
    expect(rerun.state.tokens['root/fan[0]']?.status).toBe('active');
    expect(rerun.state.approvals.signOff).toBeDefined();
  });

  it('joins nested parallel steps from the inside out', async () => {
    const nested = workflow('nested', 1)
      .parallel('outer', {
        branches: [
          (branch) =>
            branch
              .parallel('inner', {
                branches: [
                  (inner) => inner.task('a', { connector: post('/a'), next: 'aDone' }).end('aDone'),
                  (inner) => inner.end('bDone'),
                ],
                next: 'innerDone',
              })
              .end('innerDone'),
          (branch) => branch.wait('pause', { durationMs: 1_000, next: 'pauseDone' }).end('pauseDone'),
        ],
        next: 'done',
      })
      .end('done')
      .build();
    const harness = new Harness(nested);
    const started = await harness.start();
    expect(Object.keys(started.state.tokens).sort()).toEqual([
      'root',
      'root/outer[0]',
      'root/outer[0]/inner[0]',
      'root/outer[0]/inner[1]',
      'root/outer[1]',
    ]);
    const innerJoined = await harness.succeed('a');
    expect(eventsOf(innerJoined)).toContain('parallel.joined');
    expect(innerJoined.state.status).toBe('waiting');
    expect((await harness.fire('wait', 'pause')).state.status).toBe('completed');
  });
});

describe('recoveryCommands', () => {
  it('re-issues an in-flight attempt with the same idempotency key and returns nothing for terminal instances', async () => {
    const harness = new Harness(fanOut);
    const started = await harness.start();
    expect(recoveryCommands(fanOut, started.state)).toEqual([
      commandsOf(started, 'executeTask')[0],
      ...commandsOf(started, 'scheduleTimer'),
    ]);
    const cancelled = await harness.send({ type: 'cancel', reason: 'stop' });
    const settled = await harness.fail('prepare', false);
    expect(cancelled.state.status).toBe('compensating');
    expect(settled.state.status).toBe('cancelled');
    expect(recoveryCommands(fanOut, settled.state)).toEqual([]);
  });
});
