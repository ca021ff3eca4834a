import { ChannelListener } from '@keel/persistence';
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
    const options = { concurrency: 2, otherReplicasPollMs: 60_000 };
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
    // A wake-up would come within milliseconds of the start's commit.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(idleWoken()).toBe(1);

    // Its last slot: the claim that takes it comes back full, which may have left more, so it wakes the other.
    await busy.start('w-2', pickThenSend.name);
    await waitFor(() => held.callsFor('w-2:pick:run1').length === 1, {
      timeoutMs: 5_000,
      what: 'w-2 claimed',
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(idleWoken()).toBe(2);
    await busy.start('w-3', pickThenSend.name);
    await waitFor(() => free.callsFor('w-3:pick:run1').length === 1, {
      timeoutMs: 3_000,
      what: 'the idle replica claimed w-3 at the wake-up, long before its poll',
    });
    expect(await idle.waitForStatus('w-3', ['completed', 'failed'], 5_000)).toBe('completed');
    expect(idleWoken()).toBeGreaterThan(2);
    expect(held.callsFor('w-3:pick:run1')).toHaveLength(0);

    release();
    for (const id of ['w-1', 'w-2'])
      expect(await busy.waitForStatus(id, ['completed', 'failed'], 5_000)).toBe('completed');
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

  it('sends no wake-up from a replica alone, however saturated', async () => {
    const database = await scratchDatabase('keel_wf_alone');
    const alone = await RuntimeFixture.create(database, [pickThenSend], [free], { concurrency: 1 });
    const heard: string[] = [];
    // Hears the channel without saying it is there, as no replica would.
    const observer = new ChannelListener({
      dataSource: alone.dataSource,
      channel: 'workflow.tasks',
      onNotify: (payload) => heard.push(payload),
      onListening: () => undefined,
      onError: (error) => alone.errors.push(error),
    });
    try {
      await observer.start();
      await alone.listenForReplicas();
      alone.run();
      for (let n = 0; n < 20; n++) await alone.start(`alone-${n}`, pickThenSend.name);
      for (let n = 0; n < 20; n++)
        expect(await alone.waitForStatus(`alone-${n}`, ['completed', 'failed'], 10_000)).toBe('completed');
      expect(heard.filter((payload) => payload.startsWith('here:'))).toHaveLength(1);
      expect(heard.filter((payload) => payload.startsWith('wake:'))).toEqual([]);
      expect(alone.errors).toEqual([]);
    } finally {
      await observer.stop();
      await alone.close();
    }
  });

  it('wakes the other replica for a run of starts larger than its free slots', async () => {
    const database = await scratchDatabase('keel_wf_run');
    const options = { otherReplicasPollMs: 60_000 };
    const small = await RuntimeFixture.create(database, [pickThenSend], [held], {
      ...options,
      concurrency: 2,
    });
    const other = await RuntimeFixture.create(
      { url: database.url, drop: () => Promise.resolve() },
      [pickThenSend],
      [free],
      { ...options, concurrency: 8 },
    );
    try {
      hold();
      await small.listenForReplicas();
      await other.listenForReplicas();
      small.run();
      other.run();
      // One transaction of five starts, committed while the small replica has both its slots free.
      await small.dataSource.transaction((manager) =>
        small.executor.startAll(
          manager,
          [1, 2, 3, 4, 5].map((n) => ({
            instanceId: `run-${n}`,
            workflow: pickThenSend.name,
            input: {},
            owner: { caseId: `run-${n}`, tenant: 'acme', correlationId: `run-${n}` },
          })),
        ),
      );
      await waitFor(() => held.calls.filter((call) => call.idempotencyKey.startsWith('run-')).length === 2, {
        timeoutMs: 5_000,
        what: 'the small replica took two',
      });
      await waitFor(
        () => free.calls.filter((call) => /^run-.*:pick:run1$/.test(call.idempotencyKey)).length === 3,
        { timeoutMs: 3_000, what: 'the other replica took the three left, long before its poll' },
      );
      release();
      for (let n = 1; n <= 5; n++)
        expect(await small.waitForStatus(`run-${n}`, ['completed', 'failed'], 10_000)).toBe('completed');
    } finally {
      await other.close();
      await small.close();
    }
  });
});
