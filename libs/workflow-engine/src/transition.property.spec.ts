import fc from 'fast-check';
import { type StepsBuilder, workflow } from './builder';
import { type WorkflowDefinition } from './definition.schema';
import { type EngineCommand } from './engine-command';
import { type InputOfType, type WorkflowInput } from './engine-input';
import { type WorkflowInstanceState, isTerminal } from './instance-state';
import {
  type CompensationBehaviour,
  type SimulationScript,
  type SimulationStep,
  type TaskBehaviour,
  simulate,
} from './simulator';
import { transition } from './transition';

interface TaskShape {
  readonly compensate: boolean;
  readonly maxAttempts: number;
}

interface WorkflowShape {
  readonly head: readonly TaskShape[];
  readonly branches: ReadonlyArray<readonly TaskShape[]> | undefined;
  readonly tail: readonly TaskShape[];
}

const taskShape = fc.record({ compensate: fc.boolean(), maxAttempts: fc.integer({ min: 1, max: 3 }) });
const workflowShape: fc.Arbitrary<WorkflowShape> = fc.record({
  head: fc.array(taskShape, { minLength: 1, maxLength: 4 }),
  branches: fc.option(
    fc.array(fc.array(taskShape, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 3 }),
    {
      nil: undefined,
    },
  ),
  tail: fc.array(taskShape, { maxLength: 2 }),
});

type TaskOutcome =
  | 'succeed'
  | 'succeedTwice'
  | 'failRetryable'
  | 'failPermanent'
  | 'timeout'
  | 'timeoutLanded'
  | 'hang'
  | 'hangThenSucceed'
  | 'queueTimeout';
type CompensationOutcome = 'succeed' | 'succeedTwice' | 'failRetryable' | 'failPermanent' | 'hang';

const taskOutcomes = fc.array(
  fc.oneof(
    { arbitrary: fc.constant<TaskOutcome>('succeed'), weight: 6 },
    {
      arbitrary: fc.constantFrom<TaskOutcome>(
        'succeedTwice',
        'failRetryable',
        'failPermanent',
        'timeout',
        'timeoutLanded',
        'hang',
        'hangThenSucceed',
        'queueTimeout',
      ),
      weight: 3,
    },
  ),
  { maxLength: 30 },
);
const compensationOutcomes = fc.array(
  fc.oneof(
    { arbitrary: fc.constant<CompensationOutcome>('succeed'), weight: 4 },
    {
      arbitrary: fc.constantFrom<CompensationOutcome>(
        'succeedTwice',
        'failRetryable',
        'failPermanent',
        'hang',
      ),
      weight: 1,
    },
  ),
  { maxLength: 10 },
);
/** How long after its attempt timed out a hung call's success arrives: during back-off, unwinding or later. */
const lateDelays = fc.array(fc.integer({ min: 1, max: 20_000 }), { maxLength: 10 });

/** Adds a chain of tasks named `<prefix>0..n` to a flow, ending in `last`. */
function chain(builder: StepsBuilder, prefix: string, tasks: readonly TaskShape[], last: string): void {
  tasks.forEach((task, position) => {
    const id = `${prefix}${position}`;
    builder.task(id, {
      connector: { type: 'http', service: 'svc', method: 'POST', path: `/${id}` },
      ...(task.compensate
        ? {
            // The output goes in the body: a run whose effect is unknown is compensated without one.
            compensate: {
              type: 'http',
              service: 'svc',
              method: 'DELETE',
              path: `/${id}`,
              body: { n: `{{ steps.${id}.output.n }}` },
            },
          }
        : {}),
      retry: { maxAttempts: task.maxAttempts, initialDelayMs: 100, backoffMultiplier: 2, maxDelayMs: 1_000 },
      startToCloseMs: 5_000,
      scheduleToStartMs: 2_000,
      next: position + 1 < tasks.length ? `${prefix}${position + 1}` : last,
    });
  });
}

function build(shape: WorkflowShape): WorkflowDefinition {
  const builder = workflow('generated', 1);
  const afterHead = shape.branches === undefined ? (shape.tail.length > 0 ? 'tail0' : 'done') : 'fan';
  chain(builder, 'head', shape.head, afterHead);
  if (shape.branches !== undefined) {
    builder.parallel('fan', {
      branches: shape.branches.map((tasks, index) => (branch) => {
        chain(branch, `branch${index}x`, tasks, `branch${index}end`);
        return branch.end(`branch${index}end`);
      }),
      next: shape.tail.length > 0 ? 'tail0' : 'done',
    });
  }
  chain(builder, 'tail', shape.tail, 'done');
  return builder.end('done').build();
}

const runKey = ({ stepId, run }: { stepId: string; run: number }) => `${stepId}#${run}`;

/**
 * Answers commands from the generated outcome lists in issue order; once a list runs out, everything succeeds.
 * `landed` is every task run whose effect reached the far side, whether or not the engine heard of it: a
 * success, a connector that gave up after the far side applied the call, a hung call whose success arrives
 * late. The far side applies a run's effect once, whatever the number of attempts (they share a key).
 */
function world(
  tasks: readonly TaskOutcome[],
  compensations: readonly CompensationOutcome[],
  delays: readonly number[],
): { script: SimulationScript; landed: Set<string> } {
  let taskIndex = 0;
  let compensationIndex = 0;
  let delayIndex = 0;
  const landed = new Set<string>();
  const script: SimulationScript = {
    task: (command): TaskBehaviour => {
      const outcome = tasks[taskIndex] ?? 'succeed';
      taskIndex += 1;
      const output = { n: taskIndex };
      if (['succeed', 'succeedTwice', 'timeoutLanded', 'hangThenSucceed'].includes(outcome)) {
        landed.add(runKey(command));
      }
      switch (outcome) {
        case 'succeed':
          return { outcome: 'succeed', output };
        case 'succeedTwice':
          return { outcome: 'succeed', output, duplicate: true };
        case 'failRetryable':
          return { outcome: 'fail', retryable: true };
        case 'failPermanent':
          return { outcome: 'fail', retryable: false };
        case 'timeout':
        case 'timeoutLanded':
          return { outcome: 'timeout' };
        case 'hang':
          return { outcome: 'hang' };
        case 'hangThenSucceed':
          delayIndex += 1;
          return { outcome: 'hang', lateOutput: output, lateByMs: delays[delayIndex - 1] ?? 1 };
        case 'queueTimeout':
          return { outcome: 'queueTimeout' };
      }
    },
    compensation: (): CompensationBehaviour => {
      const outcome = compensations[compensationIndex] ?? 'succeed';
      compensationIndex += 1;
      switch (outcome) {
        case 'succeed':
        case 'hang':
          return { outcome };
        case 'succeedTwice':
          return { outcome: 'succeed', duplicate: true };
        case 'failRetryable':
          return { outcome: 'fail', retryable: true };
        case 'failPermanent':
          return { outcome: 'fail', retryable: false };
      }
    },
  };
  return { script, landed };
}

function compensable(definition: WorkflowDefinition, stepId: string): boolean {
  const find = (steps: WorkflowDefinition['steps']): boolean =>
    Object.entries(steps).some(([id, step]) =>
      id === stepId
        ? step.kind === 'task' && step.compensate !== undefined
        : step.kind === 'parallel' && step.branches.some((branch) => find(branch.steps)),
    );
  return find(definition.steps);
}

const lateInputs: fc.Arbitrary<WorkflowInput> = fc.oneof(
  fc.constant<WorkflowInput>({ type: 'cancel', reason: 'late' }),
  fc.constant<WorkflowInput>({ type: 'start', instanceId: 'sim-1', input: {} }),
  fc
    .record({ stepId: fc.constantFrom('head0', 'fan', 'tail0', 'done'), run: fc.integer({ min: 1, max: 3 }) })
    .map(({ stepId, run }): WorkflowInput => ({
      type: 'task.succeeded',
      stepId,
      run,
      attempt: 1,
      output: {},
    })),
  fc.constantFrom<WorkflowInput>(
    { type: 'timer.fired', timerId: 'head0:run1:retry:1' },
    { type: 'compensation.succeeded', stepId: 'head0', run: 1, attempt: 1 },
    { type: 'retryStep', stepId: 'head0', by: 'op' },
    { type: 'rerunFrom', stepId: 'head0', by: 'op' },
    { type: 'approval.granted', stepId: 'head0', run: 1, by: 'x' },
  ),
);

function eventNames(step: SimulationStep): string[] {
  return step.result.commands.flatMap((command) => (command.type === 'emitEvent' ? [command.event] : []));
}

describe('transition properties', () => {
  it('settles; every effect that landed is part of the completed run or compensated exactly once, newest first; late successes are recorded; a terminal state only records them', async () => {
    await fc.assert(
      fc.asyncProperty(
        workflowShape,
        taskOutcomes,
        compensationOutcomes,
        lateDelays,
        fc.array(lateInputs, { minLength: 1, maxLength: 4 }),
        async (shape, tasks, compensations, delays, late) => {
          const definition = build(shape);
          const { script, landed } = world(tasks, compensations, delays);
          const result = await simulate(definition, { script });
          const { state, steps } = result;

          expect(['completed', 'failed', 'compensated']).toContain(state.status);

          // Runs the engine took as succeeded, each once, in the order they completed.
          const accepted = steps
            .filter(
              (step) => step.input.type === 'task.succeeded' && eventNames(step).includes('task.succeeded'),
            )
            .map((step) => runKey(step.input as InputOfType<'task.succeeded'>));
          expect(new Set(accepted).size).toBe(accepted.length);
          // Nothing is taken as succeeded that did not land.
          expect(accepted.filter((run) => !landed.has(run))).toEqual([]);

          const compensationCommands = result.commands.filter(
            (command): command is Extract<EngineCommand, { type: 'executeCompensation' }> =>
              command.type === 'executeCompensation',
          );
          const keys = compensationCommands.map(runKey);
          const blocks = keys.filter((key, index) => key !== keys[index - 1]);
          const landedCompensable = [...landed].filter((run) =>
            compensable(definition, run.split('#')[0] ?? ''),
          );
          const stack = state.compensations.map(runKey);

          if (state.status === 'completed') {
            // Every effect that landed belongs to a run that completed; nothing was compensated.
            expect([...landed].filter((run) => !accepted.includes(run))).toEqual([]);
            expect(keys).toEqual([]);
          } else {
            // Every compensable effect that landed is on the stack, and every run on the stack either succeeded
            // or may have landed; the stack is compensated newest first, each run in one contiguous block (its
            // retries), one at a time.
            expect(landedCompensable.filter((run) => !stack.includes(run))).toEqual([]);
            for (const entry of state.compensations) {
              expect(accepted.includes(runKey(entry)) || entry.effectUnknown === true).toBe(true);
            }
            expect(new Set(stack).size).toBe(stack.length);
            expect(blocks).toEqual([...stack].reverse());
            expect(
              state.compensations.every((entry) => entry.status === 'succeeded' || entry.status === 'failed'),
            ).toBe(true);
            const anyFailed = state.compensations.some((entry) => entry.status === 'failed');
            expect(state.status).toBe(anyFailed || stack.length === 0 ? 'failed' : 'compensated');
          }
          // A compensation is rendered against the output of the run it undoes, when that output is known.
          for (const command of compensationCommands) {
            const entry = state.compensations.find((candidate) => runKey(candidate) === runKey(command));
            const output = entry?.output as { n?: number } | null | undefined;
            expect(command.call).toMatchObject({ body: output?.n === undefined ? {} : { n: output.n } });
          }
          for (const command of result.commands) {
            if (command.type === 'executeTask')
              expect(command.idempotencyKey).toBe(`sim-1:${command.stepId}:run${command.run}`);
          }
          expect(state.timers).toEqual({});

          // A late success is never dropped: one that arrives after its attempt timed out is accepted (the run is
          // still on that step) or recorded, also once the instance has ended.
          const timedOut = new Set<string>();
          for (const step of steps) {
            const { input } = step;
            if (input.type === 'task.timedOut') timedOut.add(`${runKey(input)}@${input.attempt}`);
            if (input.type === 'task.succeeded' && timedOut.has(`${runKey(input)}@${input.attempt}`)) {
              expect(step.result.ignored).toBeUndefined();
              expect(
                eventNames(step).some((name) => name === 'task.succeeded' || name === 'task.lateSucceeded'),
              ).toBe(true);
            }
          }

          // After the end nothing changes, except that a late success is recorded.
          let previous: WorkflowInstanceState | undefined;
          for (const step of steps) {
            if (previous !== undefined && isTerminal(previous.status)) {
              if (step.result.ignored === undefined) {
                expect(eventNames(step)).toEqual(['task.lateSucceeded']);
                expect({ ...step.result.state, seq: 0, updatedAt: '' }).toEqual({
                  ...previous,
                  seq: 0,
                  updatedAt: '',
                });
              } else {
                expect(step.result.ignored.code).toBe('terminal');
                expect(step.result.state).toEqual(previous);
              }
            }
            previous = step.result.state;
          }
          const snapshot = JSON.stringify(state);
          for (const input of late) {
            const after = await transition(definition, state, input, new Date('2030-01-01T00:00:00Z'));
            if (after.ignored === undefined) {
              expect(input.type).toBe('task.succeeded');
              expect(after.commands.map((command) => command.type === 'emitEvent' && command.event)).toEqual([
                'task.lateSucceeded',
              ]);
              expect(after.state.status).toBe(state.status);
              expect(after.state.compensations).toEqual(state.compensations);
            } else {
              expect(after.state).toBe(state);
              expect(after.ignored.code).toBe('terminal');
              expect(after.commands.map((command) => command.type)).toEqual(['emitEvent']);
            }
          }
          expect(JSON.stringify(state)).toBe(snapshot);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is deterministic and unaffected by persisting state between transitions', async () => {
    await fc.assert(
      fc.asyncProperty(
        workflowShape,
        taskOutcomes,
        compensationOutcomes,
        lateDelays,
        async (shape, tasks, compensations, delays) => {
          const definition = build(shape);
          const persisted = await simulate(definition, {
            script: world(tasks, compensations, delays).script,
            persist: true,
          });
          const inMemory = await simulate(definition, {
            script: world(tasks, compensations, delays).script,
            persist: false,
          });
          expect(inMemory.commands).toEqual(persisted.commands);
          expect(inMemory.state).toEqual(persisted.state);
        },
      ),
      { numRuns: 100 },
    );
  });
});
