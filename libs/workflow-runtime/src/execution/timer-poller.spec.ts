import { workflow } from '@keel/workflow-engine';
import { orchestration } from './orchestration.fixture';

const nap = (name: string) =>
  workflow(name, 1).wait('sleep', { durationMs: 60_000, next: 'done' }).end('done').build();
const slow = workflow('slow', 1)
  .task('call', {
    connector: { type: 'http', service: 'svc', method: 'POST', path: '/call' },
    retry: { maxAttempts: 1 },
    scheduleToStartMs: 1_000,
    next: 'done',
  })
  .end('done')
  .build();

describe('TimerPoller over in-memory repositories', () => {
  it('fires a due timer once, locking the instance before it marks the timer fired', async () => {
    const { repositories, poller, start } = orchestration([nap('nap')]);
    await start('n-1', 'nap');
    expect(await poller.tick()).toBe(false);
    expect(repositories.instanceRows.get('n-1')?.state.status).toBe('waiting');

    repositories.nowMs += 60_000;
    repositories.calls.length = 0;
    await poller.tick();

    expect(repositories.calls.slice(0, 3)).toEqual([
      'dueWork.due()',
      'instances.lock(n-1)',
      'timers.fire(n-1)',
    ]);
    expect(repositories.instanceRows.get('n-1')?.state.status).toBe('completed');
    repositories.calls.length = 0;
    await poller.tick();
    expect(repositories.calls).toEqual(['dueWork.due()']);
  });

  it('times out an attempt that waited in the queue past its schedule-to-start', async () => {
    const { repositories, poller, start } = orchestration([slow]);
    await start('s-1', 'slow');

    repositories.nowMs += 1_001;
    await poller.tick();

    expect(repositories.taskRows.map((task) => task.status)).toEqual(['timedOut']);
    expect(repositories.instanceRows.get('s-1')?.state.status).toBe('failed');
  });

  it('leaves what another path claimed first: an instance it cannot lock as due is untouched', async () => {
    const { repositories, poller, start } = orchestration([nap('nap')]);
    await start('n-1', 'nap');
    repositories.nowMs += 60_000;
    for (const timer of repositories.timerRows.values()) timer.status = 'cancelled';

    await poller.tick();

    expect(repositories.instanceRows.get('n-1')?.state.status).toBe('waiting');
  });

  it("keeps an instance whose firing fails due, fires the others', then reports the failure", async () => {
    const { repositories, registry, poller, start } = orchestration([nap('nap'), nap('other')]);
    await start('broken', 'nap');
    await start('fine', 'other');
    // Pinned to a version no replica stored: its firing fails until the version arrives.
    const broken = repositories.instanceRows.get('broken')!;
    broken.state = { ...broken.state, workflow: { ...broken.state.workflow, version: 9 } };
    repositories.nowMs += 60_000;

    await expect(poller.tick()).rejects.toMatchObject({ code: 'unknown-version' });

    expect(repositories.instanceRows.get('fine')?.state.status).toBe('completed');
    expect(repositories.instanceRows.get('broken')?.state.status).toBe('waiting');
    expect(
      registry
        .list()
        .map(({ name }) => name)
        .sort(),
    ).toEqual(['nap', 'other']);
  });
});
