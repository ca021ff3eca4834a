import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scratchDatabase } from '@keel/testing';
import { type WorkflowDefinition, workflow } from '@keel/workflow-engine';
import type { ConnectorResult } from '../connectors/connector';
import { HttpConnector } from '../connectors/http.connector';
import { RuntimeFixture, ScriptedConnector, sleep } from './workflow-runtime.fixture';

/** One compensable task `work` (startToClose `timeoutMs`, the older spelling the bundled definitions use). */
function oneTask(name: string, timeoutMs: number, retry: { maxAttempts: number; initialDelayMs: number }) {
  return workflow(name, 1)
    .task('work', {
      connector: { type: 'http', service: 'svc', method: 'POST', path: '/work' },
      compensate: { type: 'http', service: 'svc', method: 'DELETE', path: '/work' },
      retry: { ...retry, backoffMultiplier: 1 },
      timeoutMs,
      next: 'done',
    })
    .end('done')
    .build();
}

const transitionsOf = async (fixture: RuntimeFixture, id: string) =>
  (await fixture.history(id)).flatMap((entry) => entry.events.map((event) => event.transition));

describe('task timeouts through the task worker (start-to-close counts from the claim)', () => {
  const queued = oneTask('queued', 300, { maxAttempts: 3, initialDelayMs: 10 });
  const connector = new ScriptedConnector();
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    fixture = await RuntimeFixture.create(await scratchDatabase('keel_wf_runtime'), [queued], [connector], {
      leaseGraceMs: 100,
    });
  });
  afterAll(() => fixture.close());
  afterEach(() => fixture.stopLoops());

  it('runs an attempt that waited in the queue longer than its start-to-close once, and counts its success', async () => {
    connector.answer = async () => {
      await sleep(150);
      return { outcome: 'succeeded', output: { done: true } };
    };
    await fixture.start('waited-1', 'queued');
    // Timers are polled as usual while no worker is free for 400 ms.
    const timersOnly = setInterval(() => void fixture.poller.tick(), 10);
    await sleep(400);
    clearInterval(timersOnly);
    fixture.run();

    expect(await fixture.waitForStatus('waited-1', ['completed', 'failed', 'compensated'])).toBe('completed');
    expect(connector.callsFor('waited-1:work:run1')).toHaveLength(1);
    expect(await transitionsOf(fixture, 'waited-1')).not.toContain('task.attemptFailed');
  });

  it('never supersedes a running attempt: its success counts and no second attempt runs beside it', async () => {
    connector.answer = async () => {
      await sleep(200);
      return { outcome: 'succeeded', output: { done: true } };
    };
    await fixture.start('running-1', 'queued');
    const timersOnly = setInterval(() => void fixture.poller.tick(), 10);
    // 200 ms in the queue + 200 ms of call: over 300 ms from queueing, well within 300 ms from the claim.
    await sleep(200);
    clearInterval(timersOnly);
    fixture.run();

    expect(await fixture.waitForStatus('running-1', ['completed', 'failed', 'compensated'])).toBe(
      'completed',
    );
    await sleep(300);
    expect(connector.callsFor('running-1:work:run1')).toHaveLength(1);
    const tasks = await fixture.dataSource.query<Array<{ attempt: number; status: string }>>(
      `SELECT attempt, status FROM workflow.tasks WHERE instance_id = 'running-1' ORDER BY attempt`,
    );
    expect(tasks).toEqual([{ attempt: 1, status: 'done' }]);
  });
});

describe('task timeouts enforced on a real HTTP call', () => {
  let server: Server;
  const requests: Array<{ method: string; at: number; closedAt?: number }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  /** Requests to answer (by arrival order); the others hang until the client gives up. */
  let answerFrom = Number.POSITIVE_INFINITY;
  let fixture: RuntimeFixture;
  const retried = oneTask('retried', 300, { maxAttempts: 2, initialDelayMs: 10 });
  const once = oneTask('once', 200, { maxAttempts: 1, initialDelayMs: 10 });

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const entry: { method: string; at: number; closedAt?: number } = {
        method: request.method ?? '',
        at: Date.now(),
      };
      requests.push(entry);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      response.on('close', () => {
        inFlight -= 1;
        entry.closedAt = Date.now();
      });
      request.resume();
      if (request.method === 'DELETE' || requests.filter((r) => r.method === 'POST').length >= answerFrom) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fixture = await RuntimeFixture.create(
      await scratchDatabase('keel_wf_runtime'),
      [retried, once],
      [new HttpConnector({ svc: base })],
      {
        leaseGraceMs: 100,
      },
    );
  });
  afterAll(async () => {
    await fixture.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    requests.length = 0;
    maxInFlight = 0;
  });
  afterEach(() => fixture.stopLoops());

  it('aborts a hung call at start-to-close from the claim, then retries it alone', async () => {
    answerFrom = 2;
    await fixture.start('hung-1', 'retried');
    const timersOnly = setInterval(() => void fixture.poller.tick(), 10);
    await sleep(200);
    clearInterval(timersOnly);
    fixture.run();

    expect(await fixture.waitForStatus('hung-1', ['completed', 'failed', 'compensated'])).toBe('completed');
    const [first, second] = requests;
    // The first call was cut off at start-to-close counted from its claim: not earlier, not later.
    const [claim] = await fixture.dataSource.query<Array<{ claimed_at: Date }>>(
      `SELECT claimed_at FROM workflow.tasks WHERE instance_id = 'hung-1' AND attempt = 1`,
    );
    const cutOffAfter = (first?.closedAt ?? 0) - (claim?.claimed_at.getTime() ?? 0);
    expect(cutOffAfter).toBeGreaterThanOrEqual(250);
    expect(cutOffAfter).toBeLessThan(600);
    expect(second?.at ?? 0).toBeGreaterThanOrEqual(first?.closedAt ?? Number.POSITIVE_INFINITY);
    expect(maxInFlight).toBe(1);
    expect(requests.filter((request) => request.method === 'POST')).toHaveLength(2);
    // The attempt failed because the connector gave up at its deadline, not because it had queued too long.
    const failures = (await fixture.history('hung-1')).flatMap((entry) =>
      entry.events.filter((event) => event.transition === 'task.attemptFailed'),
    );
    expect(failures.map((event) => event.detail.error)).toEqual(['startToClose timeout']);
  });

  it('compensates a run that failed because its attempt timed out: the effect may have landed', async () => {
    answerFrom = Number.POSITIVE_INFINITY;
    await fixture.start('hung-2', 'once');
    fixture.run();

    expect(await fixture.waitForStatus('hung-2', ['completed', 'failed', 'compensated'])).toBe('compensated');
    expect(requests.map((request) => request.method)).toEqual(['POST', 'DELETE']);
    expect(await transitionsOf(fixture, 'hung-2')).toEqual(
      expect.arrayContaining([
        'task.attemptFailed',
        'task.failed',
        'compensation.issued',
        'compensation.succeeded',
      ]),
    );
  });
});

describe('late results (the attempt was given up on, then succeeded)', () => {
  // A worker that stalls (or a connector that ignores its deadline): its lease runs out, the attempt is timed
  // out by the queue, and its success still arrives afterwards.
  const connector = new ScriptedConnector();
  const retrying = oneTask('late-retry', 400, { maxAttempts: 2, initialDelayMs: 10 });
  const failing = oneTask('late-fail', 200, { maxAttempts: 1, initialDelayMs: 10 });
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    fixture = await RuntimeFixture.create(
      await scratchDatabase('keel_wf_runtime'),
      [retrying, failing] as WorkflowDefinition[],
      [connector],
      {
        leaseGraceMs: 50,
      },
    );
  });
  afterAll(() => fixture.close());
  afterEach(() => fixture.stopLoops());

  it('accepts the late success while the run is still on that step, with its retry already queued', async () => {
    connector.answer = async (call, context): Promise<ConnectorResult> => {
      if (call.method === 'DELETE') return { outcome: 'succeeded', output: {} };
      const attempt = connector.callsFor(context.idempotencyKey).length;
      await sleep(attempt === 1 ? 600 : 1_000);
      return { outcome: 'succeeded', output: { attempt } };
    };
    await fixture.start('late-1', 'late-retry');
    fixture.run();

    expect(await fixture.waitForStatus('late-1', ['completed', 'failed', 'compensated'])).toBe('completed');
    const history = await fixture.history('late-1');
    const successes = history.filter((entry) => entry.input.type === 'task.succeeded');
    expect(successes[0]?.input).toMatchObject({ attempt: 1, output: { attempt: 1 } });
    expect(successes[0]?.events.map((event) => event.transition)).toContain('task.succeeded');
    const [row] = await fixture.dataSource.query<Array<{ state: { context: { steps: unknown } } }>>(
      `SELECT state FROM workflow.instances WHERE id = 'late-1'`,
    );
    expect(row?.state.context.steps).toEqual({ work: { output: { attempt: 1 } } });
  });

  it('compensates the run exactly once when its success comes after it failed, and records that success', async () => {
    connector.answer = async (call): Promise<ConnectorResult> => {
      if (call.method === 'DELETE') return { outcome: 'succeeded', output: {} };
      await sleep(600);
      return { outcome: 'succeeded', output: { late: true } };
    };
    await fixture.start('late-2', 'late-fail');
    fixture.run();

    expect(await fixture.waitForStatus('late-2', ['completed', 'failed', 'compensated'])).toBe('compensated');
    // The success lands after the run failed: still recorded, and not compensated a second time.
    const deadline = Date.now() + 5_000;
    while (
      !(await transitionsOf(fixture, 'late-2')).includes('task.lateSucceeded') &&
      Date.now() < deadline
    ) {
      await sleep(50);
    }
    const history = await fixture.history('late-2');
    const late = history.find((entry) =>
      entry.events.some((event) => event.transition === 'task.lateSucceeded'),
    );
    expect(late?.input).toMatchObject({ type: 'task.succeeded', attempt: 1, output: { late: true } });
    // Whether it came before or after the compensation ran, the compensation (keyed by the run) undoes it.
    const disposition = late?.events[0]?.detail.disposition;
    expect(late?.events.map((event) => event.transition)).toEqual(['task.lateSucceeded']);
    expect(['compensating', 'compensated']).toContain(disposition);
    expect(connector.callsFor('late-2:work:run1:compensate')).toHaveLength(1);
    expect(await fixture.status('late-2')).toBe('compensated');
  });
});

describe('heartbeats for long tasks', () => {
  const long = workflow('long', 1)
    .task('work', {
      connector: { type: 'http', service: 'svc', method: 'POST', path: '/work' },
      retry: { maxAttempts: 2, initialDelayMs: 10 },
      startToCloseMs: 3_000,
      heartbeatTimeoutMs: 200,
      next: 'done',
    })
    .end('done')
    .build();
  const quick = workflow('quick', 1)
    .task('ping', {
      connector: { type: 'http', service: 'svc', method: 'POST', path: '/ping' },
      next: 'done',
    })
    .end('done')
    .build();
  const connector = new ScriptedConnector();
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    fixture = await RuntimeFixture.create(
      await scratchDatabase('keel_wf_runtime'),
      [long, quick],
      [connector],
      {
        leaseGraceMs: 50,
      },
    );
  });
  afterAll(() => fixture.close());
  afterEach(() => fixture.stopLoops());

  it('keeps a live call that outlasts its heartbeat timeout, and times out a silent one after it', async () => {
    connector.answer = async () => {
      await sleep(800);
      return { outcome: 'succeeded', output: {} };
    };
    await fixture.start('beating-1', 'long');
    fixture.run();
    expect(await fixture.waitForStatus('beating-1', ['completed', 'failed'])).toBe('completed');
    expect(connector.callsFor('beating-1:work:run1')).toHaveLength(1);
    expect(await transitionsOf(fixture, 'beating-1')).not.toContain('task.attemptFailed');
    await fixture.stopLoops();

    // A worker that claimed the attempt and died: no heartbeat renews its lease.
    await fixture.start('silent-1', 'long');
    await fixture.dataSource.query(
      `UPDATE workflow.tasks SET status = 'running', claimed_at = now(),
         lease_until = now() + (heartbeat_timeout_ms + 50) * interval '1 millisecond'
       WHERE instance_id = 'silent-1'`,
    );
    const claimedAt = Date.now();
    connector.answer = () => Promise.resolve({ outcome: 'succeeded', output: {} });
    fixture.run();
    expect(await fixture.waitForStatus('silent-1', ['completed', 'failed'])).toBe('completed');
    // Detected after the heartbeat timeout, long before the start-to-close.
    expect(Date.now() - claimedAt).toBeLessThan(1_500);
    const failures = (await fixture.history('silent-1')).filter(
      (entry) => entry.input.type === 'task.timedOut',
    );
    expect(failures.map((entry) => entry.input)).toEqual([
      expect.objectContaining({ type: 'task.timedOut', attempt: 1, timeout: 'heartbeat' }),
    ]);
  });

  it('does not let a long call hold up the tasks queued behind it', async () => {
    connector.answer = async (call) => {
      if (call.path === '/work') await sleep(2_500);
      return { outcome: 'succeeded', output: {} };
    };
    await fixture.start('long-1', 'long');
    fixture.run();
    await sleep(100);
    await fixture.start('quick-1', 'quick');
    expect(await fixture.waitForStatus('quick-1', ['completed', 'failed'])).toBe('completed');
    // The long call is still running: its worker went on claiming.
    expect(await fixture.status('long-1')).toBe('running');
    expect(await fixture.waitForStatus('long-1', ['completed', 'failed'])).toBe('completed');
  });
});
