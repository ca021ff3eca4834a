import { type ApprovalSpec, workflow } from './builder';
import { type HttpCall } from './definition.schema';
import { WorkflowEngineError } from './engine.error';
import { type JsonObject } from './json-value';
import { assertPinned } from './instance-state';
import { transition } from './transition';
import { Harness, commandsOf, eventsOf } from './transition.harness';

const t0 = Date.parse('2025-03-01T08:00:00.000Z');
const at = (offsetMs: number) => new Date(t0 + offsetMs).toISOString();

function post(path: string, extra: Partial<HttpCall> = {}): HttpCall {
  return { type: 'http', service: 'svc', method: 'POST', path, ...extra };
}
function remove(path: string): HttpCall {
  return { type: 'http', service: 'svc', method: 'DELETE', path };
}

const saga = workflow('saga', 1)
  .task('reserve', {
    connector: post('/reservations', { body: { orderId: '{{ input.orderId }}' } }),
    compensate: remove('/reservations/{{ steps.reserve.output.id }}'),
    retry: { maxAttempts: 3, initialDelayMs: 1_000, backoffMultiplier: 2, maxDelayMs: 1_500 },
    timeoutMs: 5_000,
    next: 'book',
  })
  .task('book', {
    connector: post('/bookings'),
    compensate: remove('/bookings/{{ steps.book.output.id }}'),
    retry: { maxAttempts: 1 },
    next: 'notify',
  })
  .task('notify', {
    connector: {
      type: 'kafka',
      topic: 'notes',
      key: '{{ input.orderId }}',
      value: { order: '{{ input.orderId }}' },
    },
    retry: { maxAttempts: 1 },
    next: 'done',
  })
  .end('done')
  .build();

async function sagaAtNotify(): Promise<Harness> {
  const harness = new Harness(saga);
  await harness.start({ orderId: 'o-1' });
  await harness.succeed('reserve', { id: 'r-9' });
  await harness.succeed('book', { id: 'b-7' });
  return harness;
}

describe('transition', () => {
  describe('task steps', () => {
    it('starts by issuing the first task with rendered call, run-scoped idempotency key and its timeouts, arming no timer', async () => {
      const harness = new Harness(saga);
      const result = await harness.start({ orderId: 'o-1' });

      expect(commandsOf(result, 'executeTask')).toEqual([
        {
          type: 'executeTask',
          stepId: 'reserve',
          run: 1,
          attempt: 1,
          idempotencyKey: 'inst-1:reserve:run1',
          call: {
            type: 'http',
            service: 'svc',
            method: 'POST',
            path: '/reservations',
            body: { orderId: 'o-1' },
          },
          timeouts: { startToCloseMs: 5_000 },
        },
      ]);
      // The task queue enforces attempt timeouts from the claim; the engine waits for its report.
      expect(commandsOf(result, 'scheduleTimer')).toEqual([]);
      expect(eventsOf(result)).toEqual(['workflow.started', 'task.issued']);
      expect(result.state).toMatchObject({
        status: 'running',
        seq: 1,
        workflow: { name: 'saga', version: 1 },
      });
    });

    it('stores each output and completes when every task succeeds, without compensating', async () => {
      const harness = await sagaAtNotify();
      expect(commandsOf(harness.last, 'executeTask')[0]?.call).toEqual({
        type: 'kafka',
        topic: 'notes',
        key: 'o-1',
        value: { order: 'o-1' },
      });
      const result = await harness.succeed('notify');

      expect(result.state.status).toBe('completed');
      expect(result.state.context.steps).toEqual({
        reserve: { output: { id: 'r-9' } },
        book: { output: { id: 'b-7' } },
        notify: { output: {} },
      });
      expect(commandsOf(result, 'complete')).toEqual([{ type: 'complete', status: 'completed' }]);
      expect(harness.results.flatMap((each) => commandsOf(each, 'executeCompensation'))).toEqual([]);
      expect(result.state.timers).toEqual({});
    });

    it('retries a retryable failure with capped exponential back-off and the same idempotency key', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });

      const first = await harness.fail('reserve', true);
      expect(commandsOf(first, 'cancelTimer')).toEqual([]);
      expect(commandsOf(first, 'scheduleTimer')).toEqual([
        {
          type: 'scheduleTimer',
          timerId: 'reserve:run1:retry:1',
          dueAt: at(1_000),
          purpose: 'retry',
          stepId: 'reserve',
        },
      ]);
      expect(first.state.status).toBe('running');
      expect(first.state.executions.reserve?.status).toBe('retrying');

      const second = await harness.fire('retry', 'reserve');
      expect(commandsOf(second, 'executeTask')).toEqual([
        expect.objectContaining({ attempt: 2, idempotencyKey: 'inst-1:reserve:run1' }),
      ]);

      const secondFailure = await harness.fail('reserve', true);
      // 1000 * 2^1 = 2000, capped by maxDelayMs at 1500.
      expect(commandsOf(secondFailure, 'scheduleTimer')[0]?.dueAt).toBe(at(1_000 + 1_500));
      await harness.fire('retry', 'reserve');
      expect(harness.execution('reserve').attempt).toBe(3);

      const exhausted = await harness.fail('reserve', true, 'inventory down');
      expect(exhausted.state.status).toBe('failed');
      expect(exhausted.state.failure).toMatchObject({
        cause: 'step-failed',
        stepId: 'reserve',
        message: "task 'reserve' failed after 3 attempt(s): inventory down",
      });
      expect(eventsOf(exhausted)).toEqual([
        'task.attemptFailed',
        'task.failed',
        'workflow.unwinding',
        'workflow.failed',
      ]);
    });

    it('fails at once on a non-retryable failure and ends failed when nothing needs compensating', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      const result = await harness.fail('reserve', false);
      expect(result.state.status).toBe('failed');
      expect(result.state.executions.reserve?.attempt).toBe(1);
      expect(commandsOf(result, 'complete')).toEqual([{ type: 'complete', status: 'failed' }]);
    });

    it('treats a start-to-close timeout as a retryable failure that may have landed, and still accepts the late success of that attempt', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      const timedOut = await harness.send({
        type: 'task.timedOut',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
        timeout: 'startToClose',
      });
      expect(eventsOf(timedOut)).toContain('task.retryScheduled');
      expect(timedOut.state.executions.reserve).toMatchObject({
        status: 'retrying',
        error: 'startToClose timeout',
        effectUnknown: true,
      });

      const late = await harness.send({
        type: 'task.succeeded',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
        output: { id: 'r-1' },
      });
      expect(late.ignored).toBeUndefined();
      expect(commandsOf(late, 'cancelTimer')).toEqual([
        { type: 'cancelTimer', timerId: 'reserve:run1:retry:1' },
      ]);
      expect(commandsOf(late, 'executeTask')[0]?.stepId).toBe('book');
    });

    it('retries a schedule-to-start timeout as an attempt known to have had no effect', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      const result = await harness.send({
        type: 'task.timedOut',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
        timeout: 'scheduleToStart',
      });
      expect(result.state.executions.reserve?.status).toBe('retrying');
      expect(result.state.executions.reserve?.effectUnknown).toBeUndefined();
    });

    it('fires a task timeout timer armed by an older engine as a stale no-op', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      const legacy = structuredClone(harness.current);
      legacy.timers['reserve:run1:taskTimeout:1'] = {
        timerId: 'reserve:run1:taskTimeout:1',
        dueAt: at(5_000),
        purpose: 'taskTimeout',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
      };
      harness.state = legacy;
      const fired = await harness.send({ type: 'timer.fired', timerId: 'reserve:run1:taskTimeout:1' });
      expect(fired.ignored?.code).toBe('stale');
      expect(fired.state.executions.reserve?.status).toBe('running');
    });

    it('ignores late and duplicate deliveries without touching state', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      await harness.succeed('reserve', { id: 'r-9' });
      const before = harness.current;

      const duplicate = await harness.send({
        type: 'task.succeeded',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
        output: {},
      });
      const wrongRun = await harness.send({
        type: 'task.failed',
        stepId: 'book',
        run: 2,
        attempt: 1,
        error: 'x',
        retryable: false,
      });
      const unknownTimer = await harness.send({ type: 'timer.fired', timerId: 'nope' });

      for (const result of [duplicate, wrongRun, unknownTimer]) {
        expect(result.state).toBe(before);
        expect(result.ignored?.code).toBe('stale');
        expect(result.commands).toEqual([
          expect.objectContaining({ type: 'emitEvent', event: 'input.ignored', sequence: before.seq }),
        ]);
      }
    });

    it('fails the workflow when a template renders no value', async () => {
      const definition = workflow('broken-render', 1)
        .task('call', { connector: post('/things/{{ input.missing }}'), next: 'done' })
        .end('done')
        .build();
      const result = await new Harness(definition).start({});
      expect(result.state.status).toBe('failed');
      expect(result.state.failure?.cause).toBe('expression-failed');
      expect(result.state.failure?.message).toContain('produced no value');
      expect(commandsOf(result, 'executeTask')).toEqual([]);
    });
  });

  describe('compensation', () => {
    it('compensates completed tasks one at a time in reverse completion order, then ends compensated', async () => {
      const harness = await sagaAtNotify();
      const failed = await harness.fail('notify', false);

      expect(failed.state.status).toBe('compensating');
      expect(commandsOf(failed, 'executeCompensation')).toEqual([
        {
          type: 'executeCompensation',
          stepId: 'book',
          run: 1,
          attempt: 1,
          idempotencyKey: 'inst-1:book:run1:compensate',
          call: { type: 'http', service: 'svc', method: 'DELETE', path: '/bookings/b-7' },
          timeouts: { startToCloseMs: 30_000 },
        },
      ]);

      const next = await harness.compensated('book');
      expect(
        commandsOf(next, 'executeCompensation').map((command) => [command.stepId, command.call]),
      ).toEqual([['reserve', { type: 'http', service: 'svc', method: 'DELETE', path: '/reservations/r-9' }]]);
      const done = await harness.compensated('reserve');
      expect(done.state.status).toBe('compensated');
      expect(done.state.compensations.map((entry) => [entry.stepId, entry.status])).toEqual([
        ['reserve', 'succeeded'],
        ['book', 'succeeded'],
      ]);
      expect(commandsOf(done, 'complete')).toEqual([{ type: 'complete', status: 'compensated' }]);
    });

    it('retries a failing compensation with its task policy', async () => {
      const harness = await sagaAtNotify();
      await harness.fail('notify', false);
      await harness.compensated('book');
      const failed = await harness.send({
        type: 'compensation.failed',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
        error: 'busy',
        retryable: true,
      });
      expect(commandsOf(failed, 'scheduleTimer')).toEqual([
        expect.objectContaining({
          timerId: 'reserve:run1:compensation:retry:1',
          purpose: 'retry',
          dueAt: at(1_000),
        }),
      ]);
      const retried = await harness.fire('retry', 'reserve');
      expect(commandsOf(retried, 'executeCompensation')).toEqual([
        expect.objectContaining({
          stepId: 'reserve',
          attempt: 2,
          idempotencyKey: 'inst-1:reserve:run1:compensate',
        }),
      ]);
      expect((await harness.compensated('reserve')).state.status).toBe('compensated');
    });

    it('accepts the late success of a compensation attempt that timed out', async () => {
      const harness = await sagaAtNotify();
      await harness.fail('notify', false);
      await harness.compensated('book');
      // The shell reports a compensation attempt that timed out as a retryable failure.
      const timedOut = await harness.send({
        type: 'compensation.failed',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
        error: 'startToClose timeout',
        retryable: true,
      });
      expect(timedOut.state.compensations[0]).toMatchObject({
        status: 'retrying',
        error: 'startToClose timeout',
      });

      const late = await harness.send({
        type: 'compensation.succeeded',
        stepId: 'reserve',
        run: 1,
        attempt: 1,
      });
      expect(commandsOf(late, 'cancelTimer')).toEqual([
        { type: 'cancelTimer', timerId: 'reserve:run1:compensation:retry:1' },
      ]);
      expect(late.state.status).toBe('compensated');
    });

    it('runs the remaining compensations after one fails for good, and ends failed', async () => {
      const harness = await sagaAtNotify();
      await harness.fail('notify', false);
      const bookFailed = await harness.send({
        type: 'compensation.failed',
        stepId: 'book',
        run: 1,
        attempt: 1,
        error: 'gone',
        retryable: false,
      });
      expect(commandsOf(bookFailed, 'executeCompensation')[0]?.stepId).toBe('reserve');
      const done = await harness.compensated('reserve');
      expect(done.state.status).toBe('failed');
      expect(done.state.compensations.map((entry) => entry.status)).toEqual(['succeeded', 'failed']);
    });

    it('compensates each run of a looping task with that run output, newest first', async () => {
      const poll = workflow('poll', 1)
        .task('check', {
          connector: { type: 'postgres', statement: 'job.status', params: ['{{ input.jobId }}'] },
          compensate: {
            type: 'postgres',
            statement: 'job.release',
            params: ['{{ steps.check.output.lease }}'],
          },
          next: 'isDone',
        })
        .choice('isDone', {
          choices: [{ when: 'steps.check.output.done = true', next: 'done' }],
          otherwise: 'pause',
        })
        .wait('pause', { durationMs: 1_000, next: 'check' })
        .end('done')
        .build();
      const harness = new Harness(poll);
      await harness.start({ jobId: 'j-1' });
      await harness.succeed('check', { done: false, lease: 'l-1' });
      const again = await harness.fire('wait', 'pause');
      expect(commandsOf(again, 'executeTask')[0]).toMatchObject({
        run: 2,
        idempotencyKey: 'inst-1:check:run2',
      });
      await harness.succeed('check', { done: false, lease: 'l-2' });

      const cancelled = await harness.send({ type: 'cancel', reason: 'job abandoned' });
      expect(commandsOf(cancelled, 'executeCompensation').map((command) => command.call)).toEqual([
        { type: 'postgres', statement: 'job.release', params: ['l-2'] },
      ]);
      const next = await harness.send({
        type: 'compensation.succeeded',
        stepId: 'check',
        run: 2,
        attempt: 1,
      });
      expect(commandsOf(next, 'executeCompensation').map((command) => command.call)).toEqual([
        { type: 'postgres', statement: 'job.release', params: ['l-1'] },
      ]);
      expect(
        (await harness.send({ type: 'compensation.succeeded', stepId: 'check', run: 1, attempt: 1 })).state
          .status,
      ).toBe('cancelled');
    });
  });

  describe('attempts given up on without an answer', () => {
    // `charge`'s compensation needs its output; `reserve`'s identifies the effect by the input.
    const hold = workflow('hold', 1)
      .task('reserve', {
        connector: post('/reservations'),
        compensate: remove('/reservations/{{ input.orderId }}'),
        retry: { maxAttempts: 2, initialDelayMs: 1_000 },
        startToCloseMs: 5_000,
        next: 'charge',
      })
      .task('charge', {
        connector: post('/charges'),
        compensate: { ...remove('/charges'), body: { charge: '{{ steps.charge.output.id }}' } },
        retry: { maxAttempts: 1 },
        next: 'notify',
      })
      .task('notify', { connector: post('/notes'), retry: { maxAttempts: 1 }, next: 'done' })
      .end('done')
      .build();
    const timedOut = (stepId: string, attempt = 1) =>
      ({ type: 'task.timedOut', stepId, run: 1, attempt, timeout: 'startToClose' }) as const;
    const lateSuccess = (stepId: string, output: JsonObject, attempt = 1) =>
      ({ type: 'task.succeeded', stepId, run: 1, attempt, output }) as const;

    it('compensates a run that failed after an attempt timed out, newest first, since its effect may have landed', async () => {
      const harness = new Harness(hold);
      await harness.start({ orderId: 'o-1' });
      await harness.succeed('reserve');
      const failed = await harness.send(timedOut('charge'));

      expect(failed.state.compensations.map((entry) => [entry.stepId, entry.effectUnknown ?? false])).toEqual(
        [
          ['reserve', false],
          ['charge', true],
        ],
      );
      // Without its output the compensation says what it can; the far side finds the run by its key.
      expect(commandsOf(failed, 'executeCompensation')).toEqual([
        expect.objectContaining({
          stepId: 'charge',
          idempotencyKey: 'inst-1:charge:run1:compensate',
          call: { type: 'http', service: 'svc', method: 'DELETE', path: '/charges', body: {} },
        }),
      ]);
      await harness.compensated('charge');
      expect((await harness.compensated('reserve')).state.status).toBe('compensated');
    });

    it('records a late success after the end in the history, without compensating again', async () => {
      const harness = new Harness(hold);
      await harness.start({ orderId: 'o-1' });
      await harness.succeed('reserve');
      await harness.send(timedOut('charge'));
      await harness.compensated('charge');
      const ended = await harness.compensated('reserve');

      const late = await harness.send(lateSuccess('charge', { id: 'c-1' }));
      expect(late.ignored).toBeUndefined();
      expect(late.commands).toEqual([
        expect.objectContaining({
          event: 'task.lateSucceeded',
          stepId: 'charge',
          sequence: ended.state.seq + 1,
          detail: { run: 1, attempt: 1, disposition: 'compensated' },
        }),
      ]);
      expect({ ...late.state, seq: 0, updatedAt: '' }).toEqual({ ...ended.state, seq: 0, updatedAt: '' });
      // A success for nothing the engine gave up on is still ignored.
      expect((await harness.send(lateSuccess('notify', {}))).ignored?.code).toBe('terminal');
    });

    it('gives a compensation not yet issued the output of the late success it undoes', async () => {
      // A rerun abandons run 1 while it waits to retry: registered for compensation, not issued (no unwinding).
      const abandoning = new Harness(hold);
      await abandoning.start({ orderId: 'o-2' });
      await abandoning.send(timedOut('reserve'));
      const rerunFrom = await abandoning.send({ type: 'rerunFrom', stepId: 'reserve', by: 'op' });
      expect(rerunFrom.state.compensations).toEqual([
        expect.objectContaining({
          stepId: 'reserve',
          run: 1,
          effectUnknown: true,
          status: 'registered',
          output: null,
        }),
      ]);
      const late = await abandoning.send(lateSuccess('reserve', { id: 'r-1' }));
      expect(late.commands).toEqual([
        expect.objectContaining({
          event: 'task.lateSucceeded',
          detail: { run: 1, attempt: 1, disposition: 'compensation-pending' },
        }),
      ]);
      expect(late.state.compensations[0]?.output).toEqual({ id: 'r-1' });
    });

    it('accepts the success of an attempt an operator replaced, and compensates the run if it fails instead', async () => {
      const harness = new Harness(hold);
      await harness.start({ orderId: 'o-1' });
      await harness.succeed('reserve');
      const replaced = await harness.send({ type: 'retryStep', stepId: 'charge', by: 'op' });
      expect(commandsOf(replaced, 'executeTask')).toEqual([
        expect.objectContaining({ stepId: 'charge', attempt: 2 }),
      ]);
      expect(replaced.state.executions.charge?.effectUnknown).toBe(true);

      const accepted = await harness.send(lateSuccess('charge', { id: 'c-1' }));
      expect(eventsOf(accepted)).toContain('task.succeeded');

      const other = new Harness(hold);
      await other.start({ orderId: 'o-2' });
      await other.succeed('reserve');
      await other.send({ type: 'retryStep', stepId: 'charge', by: 'op' });
      const failed = await other.fail('charge', false);
      expect(failed.state.compensations.map((entry) => entry.stepId)).toEqual(['reserve', 'charge']);
      expect(commandsOf(failed, 'executeCompensation').map((command) => command.stepId)).toEqual(['charge']);
    });

    it('records the late success of a task without compensation that a cancel abandoned', async () => {
      const harness = new Harness(hold);
      await harness.start({ orderId: 'o-1' });
      await harness.succeed('reserve');
      await harness.succeed('charge', { id: 'c-1' });
      const cancelled = await harness.send({ type: 'cancel', reason: 'stop' });
      expect(eventsOf(cancelled)).toContain('task.abandoned');
      await harness.compensated('charge');
      await harness.compensated('reserve');
      expect(harness.current.status).toBe('cancelled');

      const late = await harness.send(lateSuccess('notify', {}));
      expect(late.commands).toEqual([
        expect.objectContaining({
          event: 'task.lateSucceeded',
          detail: { run: 1, attempt: 1, disposition: 'nothing-to-undo' },
        }),
      ]);
    });
  });

  describe('choice steps', () => {
    const routing = workflow('routing', 1)
      .choice('route', {
        choices: [
          { when: 'input.weight > 30', next: 'heavy' },
          { when: "input.region = 'EU'", next: 'eu' },
        ],
        otherwise: 'other',
      })
      .end('heavy')
      .end('eu')
      .end('other')
      .build();

    it.each([
      [{ weight: 40, region: 'EU' }, 'heavy', 0],
      [{ weight: 5, region: 'EU' }, 'eu', 1],
      [{ weight: 5, region: 'US' }, 'other', 'otherwise'],
      [{}, 'other', 'otherwise'],
    ])('routes %j to %s', async (input, next, choice) => {
      const result = await new Harness(routing).start(input);
      expect(result.state.status).toBe('completed');
      expect(result.state.tokens.root?.stepId).toBe(next);
      expect(
        commandsOf(result, 'emitEvent').find((command) => command.event === 'choice.taken')?.detail,
      ).toEqual({
        run: 1,
        next,
        choice,
      });
    });

    it('fails the workflow when a condition is not boolean', async () => {
      const definition = workflow('bad-choice', 1)
        .choice('route', { choices: [{ when: 'input.weight', next: 'done' }], otherwise: 'done' })
        .end('done')
        .build();
      const result = await new Harness(definition).start({ weight: 5 });
      expect(result.state.status).toBe('failed');
      expect(result.state.failure?.message).toBe(
        "step 'route': expression 'input.weight' failed: must evaluate to a boolean, got 5",
      );
    });
  });

  describe('wait steps', () => {
    it('sleeps for durationMs on a wait timer', async () => {
      const harness = new Harness(
        workflow('nap', 1).wait('pause', { durationMs: 60_000, next: 'done' }).end('done').build(),
      );
      const started = await harness.start();
      expect(started.state.status).toBe('waiting');
      expect(commandsOf(started, 'scheduleTimer')).toEqual([
        {
          type: 'scheduleTimer',
          timerId: 'pause:run1:wait',
          dueAt: at(60_000),
          purpose: 'wait',
          stepId: 'pause',
        },
      ]);
      const woke = await harness.fire('wait', 'pause');
      expect(eventsOf(woke)).toEqual(['wait.elapsed', 'workflow.completed']);
      expect(woke.state.status).toBe('completed');
    });

    it('waits until the time an expression computes from the transition clock', async () => {
      const harness = new Harness(
        workflow('until', 1)
          .wait('pause', { until: '$fromMillis($millis() + input.delayMs)', next: 'done' })
          .end('done')
          .build(),
      );
      const started = await harness.start({ delayMs: 2_500 });
      expect(commandsOf(started, 'scheduleTimer')[0]?.dueAt).toBe(at(2_500));
    });

    it('passes straight through when the time is already past', async () => {
      const harness = new Harness(
        workflow('past', 1)
          .wait('pause', { until: "'2020-01-01T00:00:00Z'", next: 'done' })
          .end('done')
          .build(),
      );
      const started = await harness.start();
      expect(started.state.status).toBe('completed');
      expect(commandsOf(started, 'scheduleTimer')).toEqual([]);
    });

    it('fails when the expression does not yield a time', async () => {
      const harness = new Harness(
        workflow('never', 1).wait('pause', { until: "'soon'", next: 'done' }).end('done').build(),
      );
      expect((await harness.start()).state.failure?.message).toContain('must yield an ISO-8601 time');
    });
  });

  describe('approval steps', () => {
    const approvalFlow = (overrides: Partial<ApprovalSpec> = {}) => {
      const builder = workflow('approve', 1)
        .task('reserve', {
          connector: post('/r'),
          compensate: remove('/r/{{ steps.reserve.output.id }}'),
          next: 'approve',
        })
        .approval('approve', {
          title: 'Ship it?',
          prompt: 'Order {{ input.orderId }} needs approval',
          approverRole: 'ops',
          timeoutMs: 3_600_000,
          next: 'done',
          ...overrides,
        })
        .end('done');
      // An end only reachable through onReject would otherwise be rejected as unreachable.
      if (typeof overrides.onReject === 'object') builder.end('declined');
      return builder.build();
    };

    async function waitingForApproval(overrides: Partial<ApprovalSpec> = {}): Promise<Harness> {
      const harness = new Harness(approvalFlow(overrides));
      await harness.start({ orderId: 'o-1' });
      await harness.succeed('reserve', { id: 'r-1' });
      return harness;
    }

    it('requests approval with a rendered prompt and continues once granted', async () => {
      const harness = new Harness(approvalFlow({ onReject: { next: 'declined' } }));
      await harness.start({ orderId: 'o-1' });
      const requested = await harness.succeed('reserve', { id: 'r-1' });
      expect(commandsOf(requested, 'requestApproval')).toEqual([
        {
          type: 'requestApproval',
          stepId: 'approve',
          run: 1,
          title: 'Ship it?',
          prompt: 'Order o-1 needs approval',
          approverRole: 'ops',
          escalated: false,
          dueAt: at(3_600_000),
        },
      ]);
      expect(requested.state.status).toBe('waiting');

      const granted = await harness.send({
        type: 'approval.granted',
        stepId: 'approve',
        run: 1,
        by: 'alice',
        reason: 'ok',
      });
      expect(granted.state.status).toBe('completed');
      expect(granted.state.context.steps.approve?.output).toEqual({
        approved: true,
        by: 'alice',
        escalated: false,
        reason: 'ok',
      });
      expect(commandsOf(granted, 'cancelTimer')).toEqual([
        { type: 'cancelTimer', timerId: 'approve:run1:approvalTimeout:initial' },
      ]);
    });

    it('compensates when rejected', async () => {
      const harness = await waitingForApproval();
      const rejected = await harness.send({
        type: 'approval.rejected',
        stepId: 'approve',
        run: 1,
        by: 'bob',
        reason: 'fraud',
      });
      expect(rejected.state.failure).toMatchObject({
        cause: 'approval-rejected',
        message: "approval 'approve' rejected by bob: fraud",
      });
      expect(commandsOf(rejected, 'executeCompensation')[0]?.call).toMatchObject({ path: '/r/r-1' });
      expect((await harness.compensated('reserve')).state.status).toBe('compensated');
    });

    it('routes a rejection to onReject.next when configured', async () => {
      const harness = await waitingForApproval({ onReject: { next: 'declined' } });
      const rejected = await harness.send({
        type: 'approval.rejected',
        stepId: 'approve',
        run: 1,
        by: 'bob',
      });
      expect(rejected.state.status).toBe('completed');
      expect(rejected.state.tokens.root?.stepId).toBe('declined');
    });

    it('escalates on timeout, then rejects and compensates when the escalation times out too', async () => {
      const harness = await waitingForApproval({
        onTimeout: 'escalate',
        escalateTo: 'ops-manager',
        escalationTimeoutMs: 7_200_000,
      });
      const escalated = await harness.fire('approvalTimeout', 'approve');
      expect(commandsOf(escalated, 'requestApproval')).toEqual([
        expect.objectContaining({
          approverRole: 'ops-manager',
          escalated: true,
          dueAt: at(3_600_000 + 7_200_000),
        }),
      ]);
      expect(eventsOf(escalated)).toEqual(['approval.escalated']);

      const expired = await harness.fire('approvalTimeout', 'approve');
      expect(expired.state.context.steps.approve?.output).toEqual({
        approved: false,
        by: 'system:timeout',
        escalated: true,
        reason: 'approval timed out',
      });
      expect(commandsOf(expired, 'executeCompensation').map((command) => command.stepId)).toEqual([
        'reserve',
      ]);
    });

    it('accepts a grant from the escalation role', async () => {
      const harness = await waitingForApproval({ onTimeout: 'escalate', escalateTo: 'ops-manager' });
      await harness.fire('approvalTimeout', 'approve');
      const granted = await harness.send({
        type: 'approval.granted',
        stepId: 'approve',
        run: 1,
        by: 'manager',
      });
      expect(granted.state.status).toBe('completed');
      expect(granted.state.context.steps.approve?.output).toMatchObject({ approved: true, escalated: true });
    });

    it('rejects on timeout when onTimeout is reject', async () => {
      const harness = await waitingForApproval();
      const expired = await harness.fire('approvalTimeout', 'approve');
      expect(expired.state.failure?.cause).toBe('approval-rejected');
    });

    it('ignores answers for steps that are not waiting or for an old run', async () => {
      const harness = await waitingForApproval();
      const wrongStep = await harness.send({ type: 'approval.granted', stepId: 'reserve', run: 1, by: 'x' });
      expect(wrongStep.ignored?.code).toBe('not-waiting');
      const oldRun = await harness.send({ type: 'approval.granted', stepId: 'approve', run: 7, by: 'x' });
      expect(oldRun.ignored?.code).toBe('stale');
    });
  });

  describe('decision steps', () => {
    const deciding = workflow('decide', 1)
      .decision('classify', {
        question: 'Which?',
        options: ['a', 'b'],
        context: "{ 'id': input.id }",
        next: 'route',
      })
      .choice('route', {
        choices: [{ when: "steps.classify.output.decision = 'a'", next: 'isA' }],
        otherwise: 'isB',
      })
      .end('isA')
      .end('isB')
      .build();

    it('asks the agent with the selected context and resumes on its decision', async () => {
      const harness = new Harness(deciding);
      const asked = await harness.start({ id: 7, secret: 'x' });
      expect(commandsOf(asked, 'requestDecision')).toEqual([
        {
          type: 'requestDecision',
          stepId: 'classify',
          run: 1,
          question: 'Which?',
          options: ['a', 'b'],
          context: { id: 7 },
        },
      ]);
      expect(asked.state.status).toBe('waiting');

      const decided = await harness.send({
        type: 'decision.received',
        stepId: 'classify',
        run: 1,
        decision: 'b',
        by: 'agent-7',
        rationale: 'looks like b',
      });
      expect(decided.state.status).toBe('completed');
      expect(decided.state.tokens.root?.stepId).toBe('isB');
      expect(decided.state.context.steps.classify?.output).toEqual({
        decision: 'b',
        by: 'agent-7',
        rationale: 'looks like b',
      });
    });

    it('keeps waiting when the decision is not one of the options', async () => {
      const harness = new Harness(deciding);
      await harness.start({ id: 7 });
      const before = harness.current;
      const result = await harness.send({
        type: 'decision.received',
        stepId: 'classify',
        run: 1,
        decision: 'c',
      });
      expect(result.ignored).toEqual({
        code: 'invalid-decision',
        message: 'decision "c" is not one of a, b',
      });
      expect(result.state).toBe(before);
    });

    it('shows the agent the whole context when no context expression is given', async () => {
      const definition = workflow('ask', 1)
        .decision('ask', { question: 'Go?', next: 'done' })
        .end('done')
        .build();
      const asked = await new Harness(definition).start({ id: 1 });
      expect(commandsOf(asked, 'requestDecision')[0]?.context).toEqual({ input: { id: 1 }, steps: {} });
    });
  });

  describe('cancel', () => {
    it('withdraws a pending approval, compensates and ends cancelled', async () => {
      const harness = new Harness(
        workflow('cancel-approval', 1)
          .task('reserve', {
            connector: post('/r'),
            compensate: remove('/r/{{ steps.reserve.output.id }}'),
            next: 'approve',
          })
          .approval('approve', { title: 'Ok?', approverRole: 'ops', timeoutMs: 60_000, next: 'done' })
          .end('done')
          .build(),
      );
      await harness.start();
      await harness.succeed('reserve', { id: 'r-1' });
      const cancelled = await harness.send({ type: 'cancel', reason: 'customer withdrew', by: 'support' });
      expect(eventsOf(cancelled)).toEqual([
        'workflow.cancelRequested',
        'workflow.unwinding',
        'approval.withdrawn',
        'compensation.issued',
      ]);
      expect(commandsOf(cancelled, 'cancelTimer')).toEqual([
        { type: 'cancelTimer', timerId: 'approve:run1:approvalTimeout:initial' },
      ]);
      expect(cancelled.state.approvals).toEqual({});
      const done = await harness.compensated('reserve');
      expect(done.state.status).toBe('cancelled');
      expect(commandsOf(done, 'complete')).toEqual([{ type: 'complete', status: 'cancelled' }]);
    });

    it('waits for a compensable task in flight to settle before compensating it', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      const cancelled = await harness.send({ type: 'cancel', reason: 'stop' });
      expect(cancelled.state.status).toBe('compensating');
      expect(eventsOf(cancelled)).toContain('compensation.draining');
      expect(commandsOf(cancelled, 'executeCompensation')).toEqual([]);

      const landed = await harness.succeed('reserve', { id: 'r-5' });
      expect(commandsOf(landed, 'executeTask')).toEqual([]);
      expect(commandsOf(landed, 'executeCompensation')[0]?.call).toMatchObject({ path: '/reservations/r-5' });
      expect((await harness.compensated('reserve')).state.status).toBe('cancelled');
    });

    it('ends cancelled straight away when there is nothing in flight or to undo', async () => {
      const harness = new Harness(
        workflow('idle', 1).wait('pause', { durationMs: 1_000, next: 'done' }).end('done').build(),
      );
      await harness.start();
      const cancelled = await harness.send({ type: 'cancel', reason: 'not needed' });
      expect(cancelled.state.status).toBe('cancelled');
      expect(commandsOf(cancelled, 'cancelTimer')).toEqual([
        { type: 'cancelTimer', timerId: 'pause:run1:wait' },
      ]);
    });
  });

  describe('terminal states', () => {
    it('ignores every input once completed, returning the same state object', async () => {
      const harness = await sagaAtNotify();
      const completed = (await harness.succeed('notify')).state;
      for (const input of [
        { type: 'cancel', reason: 'late' } as const,
        { type: 'task.succeeded', stepId: 'notify', run: 1, attempt: 1, output: {} } as const,
        { type: 'rerunFrom', stepId: 'reserve', by: 'op' } as const,
        { type: 'start', instanceId: 'inst-1', input: {} } as const,
      ]) {
        const result = await harness.send(input);
        expect(result.state).toBe(completed);
        expect(result.ignored?.code).toBe('terminal');
      }
    });
  });

  describe('operator requests', () => {
    it('retryStep skips the back-off and issues the next attempt now', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      await harness.fail('reserve', true);
      const retried = await harness.send({ type: 'retryStep', stepId: 'reserve', by: 'operator' });
      expect(commandsOf(retried, 'cancelTimer')).toEqual([
        { type: 'cancelTimer', timerId: 'reserve:run1:retry:1' },
      ]);
      expect(commandsOf(retried, 'executeTask')).toEqual([
        expect.objectContaining({ stepId: 'reserve', attempt: 2, idempotencyKey: 'inst-1:reserve:run1' }),
      ]);
      expect(eventsOf(retried)[0]).toBe('operator.retryStep');
    });

    it('retryStep is refused for a step that is not a running task', async () => {
      const harness = await sagaAtNotify();
      const result = await harness.send({ type: 'retryStep', stepId: 'reserve', by: 'operator' });
      expect(result.ignored?.code).toBe('not-allowed');
    });

    it('rerunFrom withdraws the current wait and starts a new run with a new idempotency key', async () => {
      const harness = new Harness(
        workflow('rerun', 1)
          .task('reserve', {
            connector: post('/r'),
            compensate: remove('/r/{{ steps.reserve.output.id }}'),
            next: 'approve',
          })
          .approval('approve', { title: 'Ok?', approverRole: 'ops', timeoutMs: 60_000, next: 'done' })
          .end('done')
          .build(),
      );
      await harness.start();
      await harness.succeed('reserve', { id: 'r-1' });
      const rerun = await harness.send({ type: 'rerunFrom', stepId: 'reserve', by: 'operator' });
      expect(eventsOf(rerun)).toEqual(['approval.withdrawn', 'operator.rerunFrom', 'task.issued']);
      expect(commandsOf(rerun, 'executeTask')[0]).toMatchObject({
        run: 2,
        attempt: 1,
        idempotencyKey: 'inst-1:reserve:run2',
      });

      await harness.succeed('reserve', { id: 'r-2' });
      expect(
        (await harness.send({ type: 'approval.granted', stepId: 'approve', run: 1, by: 'x' })).ignored?.code,
      ).toBe('stale');
      const done = await harness.send({ type: 'approval.granted', stepId: 'approve', run: 2, by: 'x' });
      expect(done.state.status).toBe('completed');
      expect(done.state.compensations.map((entry) => [entry.run, entry.output])).toEqual([
        [1, { id: 'r-1' }],
        [2, { id: 'r-2' }],
      ]);
    });

    it('rerunFrom is refused while a task of that flow is in flight', async () => {
      const harness = new Harness(saga);
      await harness.start({ orderId: 'o-1' });
      const result = await harness.send({ type: 'rerunFrom', stepId: 'reserve', by: 'operator' });
      expect(result.ignored).toEqual({
        code: 'not-allowed',
        message: "task 'reserve' is in flight; wait for it to settle or time out before rerunning",
      });
    });
  });

  describe('version pinning and caller errors', () => {
    const v1 = workflow('pinned', 1).wait('pause', { durationMs: 1_000, next: 'done' }).end('done').build();
    const v2 = workflow('pinned', 2)
      .decision('ask', { question: 'New step', next: 'done' })
      .end('done')
      .build();

    it('pins the instance to the version it started with; a v2 definition cannot advance it', async () => {
      const harness = new Harness(v1);
      const { state } = await harness.start();
      expect(state.workflow).toEqual({ name: 'pinned', version: 1 });
      expect(() => assertPinned(v1, state)).not.toThrow();
      expect(() => assertPinned(v2, state)).toThrow(
        new WorkflowEngineError(
          'definition-mismatch',
          "instance 'inst-1' is pinned to pinned v1, not pinned v2",
        ),
      );
      await expect(
        transition(v2, state, { type: 'timer.fired', timerId: 'pause:run1:wait' }, new Date(t0)),
      ).rejects.toMatchObject({ name: 'WorkflowEngineError', code: 'definition-mismatch' });
      const resumed = await harness.fire('wait', 'pause');
      expect(resumed.state.status).toBe('completed');
    });

    it('refuses non-start inputs without state, malformed inputs and invalid clocks', async () => {
      await expect(
        transition(v1, undefined, { type: 'cancel', reason: 'x' }, new Date(t0)),
      ).rejects.toMatchObject({
        code: 'not-started',
      });
      await expect(
        transition(v1, undefined, { type: 'start', instanceId: '', input: {} }, new Date(t0)),
      ).rejects.toMatchObject({ code: 'invalid-input' });
      await expect(
        transition(v1, undefined, { type: 'start', instanceId: 'a', input: {} }, new Date(Number.NaN)),
      ).rejects.toMatchObject({ code: 'invalid-input' });
    });
  });

  describe('loops that never wait', () => {
    it('fails the instance when one transition enters too many steps', async () => {
      const spin = workflow('spin', 1)
        .parallel('fan', { branches: [(branch) => branch.end('branchDone')], next: 'again' })
        .choice('again', { choices: [{ when: 'input.stop = true', next: 'done' }], otherwise: 'fan' })
        .end('done')
        .build();
      const result = await new Harness(spin).start({ stop: false });
      expect(result.state.status).toBe('failed');
      expect(result.state.failure?.cause).toBe('step-budget');
    });
  });

  it('treats step ids that are Object.prototype members as ordinary ids', async () => {
    const definition = workflow('proto', 1)
      .task('constructor', { connector: post('/x'), next: 'toString' })
      .end('toString')
      .build();
    const harness = new Harness(definition);
    await harness.start();
    expect((await harness.succeed('constructor')).state.status).toBe('completed');
  });
});
