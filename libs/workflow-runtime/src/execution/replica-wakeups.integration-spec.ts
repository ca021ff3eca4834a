import { scratchDatabase, waitFor } from '@keel/testing';
import type { ConnectorResult } from '../connectors/connector';
import { pickThenSend } from './orchestration.fixture';
import { RuntimeFixture, ScriptedConnector } from './workflow-runtime.fixture';

/**
 * Two replicas on one database, each claiming on its own only once a minute here: attempts one of them queued
 * but has no slot for (or is draining) reach the other through the channel at once, and a replica that can
 * take its own attempts wakes nobody.
 */
describe('task wake-ups between replicas', () => {
  const succeeded: ConnectorResult = { outcome: 'succeeded', output: {} };
  // Calls to the busy replica wait while it is held; `release` answers them and the ones after.
  const waiting: Array<() => void> = [];
  let holding = true;
  const hold = () => (holding = true);
  const release = () => {
    holding = false;
    for (const answer of waiting.splice(0)) answer();
  };
  const held = new ScriptedConnector(() =>
    holding ? new Promise((resolve) => waiting.push(() => resolve(succeeded))) : Promise.resolve(succeeded),
  );
  const free = new ScriptedConnector(() => Promise.resolve(succeeded));
  let busy: RuntimeFixture;
  let idle: RuntimeFixture;
  let idleWoken: () => number;

  beforeAll(async () => {
    const database = await scratchDatabase('keel_wf_wakeups');
    const options = { concurrency: 1, otherReplicasPollMs: 60_000 };
    busy = await RuntimeFixture.create(database, [pickThenSend], [held], options);
    // The database is dropped once, by the first replica's close.
    idle = await RuntimeFixture.create(
      { url: database.url, drop: () => Promise.resolve() },
      [pickThenSend],
      [free],
      {
        ...options,
        concurrency: 4,
      },
    );
    await busy.listenForReplicas();
    idleWoken = await idle.listenForReplicas();
    busy.run();
    idle.run();
  });
  afterAll(async () => {
    await idle.close();
    await busy.close();
  });

  it('hands attempts a saturated replica queued to the other at once, and wakes nobody while it has a slot', async () => {
    expect(idleWoken()).toBe(1); // listening, at start
    await busy.start('w-1', pickThenSend.name);
    await waitFor(() => held.callsFor('w-1:pick:run1').length === 1, {
      timeoutMs: 5_000,
      what: 'w-1 claimed',
    });
    expect(idleWoken()).toBe(1);

    await busy.start('w-2', pickThenSend.name);
    await waitFor(() => free.callsFor('w-2:pick:run1').length === 1, {
      timeoutMs: 3_000,
      what: 'the idle replica claimed w-2 at the wake-up, long before its poll',
    });
    expect(await idle.waitForStatus('w-2', ['completed', 'failed'], 5_000)).toBe('completed');
    expect(idleWoken()).toBeGreaterThan(1);
    expect(held.callsFor('w-2:pick:run1')).toHaveLength(0);

    release();
    expect(await busy.waitForStatus('w-1', ['completed', 'failed'], 5_000)).toBe('completed');
    expect(busy.errors).toEqual([]);
    expect(idle.errors).toEqual([]);
  });

  it('hands the next steps of a draining replica to the other', async () => {
    hold();
    await busy.start('d-1', pickThenSend.name);
    await waitFor(() => held.callsFor('d-1:pick:run1').length === 1, {
      timeoutMs: 5_000,
      what: 'd-1 claimed',
    });
    const woken = idleWoken();

    await busy.stopLoops();
    const drained = busy.worker.drain();
    release();
    await drained;
    await waitFor(() => free.callsFor('d-1:send:run1').length === 1, {
      timeoutMs: 3_000,
      what: 'the other replica took the step the draining one queued',
    });
    expect(await idle.waitForStatus('d-1', ['completed', 'failed'], 5_000)).toBe('completed');
    expect(idleWoken()).toBeGreaterThan(woken);
    expect(held.callsFor('d-1:send:run1')).toHaveLength(0);
  });
});
