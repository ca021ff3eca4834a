import fc from 'fast-check';
import { type StepsBuilder, workflow } from './builder';
import { type WorkflowDefinition } from './definition.schema';
import { type WorkflowCommand } from './engine-command';
import { type WorkflowInput } from './engine-input';
import { type WorkflowInstanceState, isTerminal } from './instance-state';
import { type CompensationBehaviour, type SimulationScript, type TaskBehaviour, simulate } from './simulator';
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

type TaskOutcome = 'succeed' | 'failRetryable' | 'failPermanent' | 'timeout' | 'hang';
type CompensationOutcome = 'succeed' | 'failRetryable' | 'failPermanent' | 'hang';

const taskOutcomes = fc.array(
  fc.oneof(
    { arbitrary: fc.constant<TaskOutcome>('succeed'), weight: 6 },
    {
      arbitrary: fc.constantFrom<TaskOutcome>('failRetryable', 'failPermanent', 'timeout', 'hang'),
      weight: 2,
    },
  ),
  { maxLength: 30 },
);
const compensationOutcomes = fc.array(
  fc.oneof(
    { arbitrary: fc.constant<CompensationOutcome>('succeed'), weight: 4 },
    { arbitrary: fc.constantFrom<CompensationOutcome>('failRetryable', 'failPermanent', 'hang'), weight: 1 },
  ),
  { maxLength: 10 },
);

/** Adds a chain of tasks named `<prefix>0..n` to a flow, ending in `last`. */
function chain(builder: StepsBuilder, prefix: string, tasks: readonly TaskShape[], last: string): void {
  tasks.forEach((task, position) => {
    const id = `${prefix}${position}`;
    builder.task(id, {
      connector: { type: 'http', service: 'svc', method: 'POST', path: `/${id}` },
      ...(task.compensate
        ? {
            compensate: {
              type: 'http',
              service: 'svc',
              method: 'DELETE',
              path: `/${id}/{{ steps.${id}.output.n }}`,
            },
          }
        : {}),
      retry: { maxAttempts: task.maxAttempts, initialDelayMs: 100, backoffMultiplier: 2, maxDelayMs: 1_000 },
      timeoutMs: 5_000,
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

/**
 * Answers commands from the generated outcome lists in issue order; once a list runs out, everything succeeds.
 * `applied` records each task run the simulated world reports as done: those effects happened and must be undone.
 */
function world(
  tasks: readonly TaskOutcome[],
  compensations: readonly CompensationOutcome[],
): { script: SimulationScript; applied: string[] } {
  let taskIndex = 0;
  let compensationIndex = 0;
  const applied: string[] = [];
  const script: SimulationScript = {
    task: (command): TaskBehaviour => {
      const outcome = tasks[taskIndex] ?? 'succeed';
      taskIndex += 1;
      switch (outcome) {
        case 'succeed':
          applied.push(`${command.stepId}#${command.run}`);
          return { outcome: 'succeed', output: { n: taskIndex } };
        case 'failRetryable':
          return { outcome: 'fail', retryable: true };
        case 'failPermanent':
          return { outcome: 'fail', retryable: false };
        case 'timeout':
        case 'hang':
          return { outcome };
      }
    },
    compensation: (): CompensationBehaviour => {
      const outcome = compensations[compensationIndex] ?? 'succeed';
      compensationIndex += 1;
      switch (outcome) {
        case 'succeed':
        case 'hang':
          return { outcome };
        case 'failRetryable':
          return { outcome: 'fail', retryable: true };
        case 'failPermanent':
          return { outcome: 'fail', retryable: false };
      }
    },
  };
  return { script, applied };
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

describe('transition properties', () => {
  it('always settles completed, failed or compensated; compensates each completed task once, newest first; never leaves a terminal state', async () => {
    await fc.assert(
      fc.asyncProperty(
        workflowShape,
        taskOutcomes,
        compensationOutcomes,
        fc.array(lateInputs, { minLength: 1, maxLength: 4 }),
        async (shape, tasks, compensations, late) => {
          const definition = build(shape);
          const { script, applied } = world(tasks, compensations);
          const result = await simulate(definition, { script });
          const { state, steps } = result;

          expect(['completed', 'failed', 'compensated']).toContain(state.status);

          // Compensable task runs in the order they completed, taken from the inputs the engine accepted.
          const completed = steps
            .filter((step) => step.input.type === 'task.succeeded' && step.result.ignored === undefined)
            .map((step) => step.input as Extract<WorkflowInput, { type: 'task.succeeded' }>)
            .filter((input) => compensable(definition, input.stepId))
            .map((input) => `${input.stepId}#${input.run}`);
          const compensationCommands = result.commands.filter(
            (command): command is Extract<WorkflowCommand, { type: 'executeCompensation' }> =>
              command.type === 'executeCompensation',
          );
          const keys = compensationCommands.map((command) => `${command.stepId}#${command.run}`);
          const blocks = keys.filter((key, index) => key !== keys[index - 1]);

          // No effect goes unrecorded, not even one that lands after another branch has failed.
          expect(completed).toEqual(
            applied.filter((run) => compensable(definition, run.split('#')[0] ?? '')),
          );
          if (state.status === 'completed') {
            expect(keys).toEqual([]);
          } else {
            // Every completed compensable run is compensated exactly once (retries of one compensation form one
            // contiguous block), in reverse completion order, one at a time.
            expect(blocks).toEqual([...completed].reverse());
            expect(
              state.compensations.every((entry) => entry.status === 'succeeded' || entry.status === 'failed'),
            ).toBe(true);
            const anyFailed = state.compensations.some((entry) => entry.status === 'failed');
            expect(state.status).toBe(anyFailed || completed.length === 0 ? 'failed' : 'compensated');
          }
          for (const command of result.commands) {
            if (command.type === 'executeTask')
              expect(command.idempotencyKey).toBe(`sim-1:${command.stepId}:run${command.run}`);
          }
          expect(state.timers).toEqual({});

          // Inputs that arrive after the end change nothing.
          let previous: WorkflowInstanceState | undefined;
          for (const step of steps) {
            if (previous !== undefined && isTerminal(previous.status)) {
              expect(step.result.ignored?.code).toBe('terminal');
              expect(step.result.state).toEqual(previous);
            }
            previous = step.result.state;
          }
          const snapshot = JSON.stringify(state);
          for (const input of late) {
            const after = await transition(definition, state, input, new Date('2030-01-01T00:00:00Z'));
            expect(after.state).toBe(state);
            expect(after.ignored?.code).toBe('terminal');
            expect(after.commands.map((command) => command.type)).toEqual(['emitEvent']);
          }
          expect(JSON.stringify(state)).toBe(snapshot);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is deterministic and unaffected by persisting state between transitions', async () => {
    await fc.assert(
      fc.asyncProperty(
        workflowShape,
        taskOutcomes,
        compensationOutcomes,
        async (shape, tasks, compensations) => {
          const definition = build(shape);
          const persisted = await simulate(definition, {
            script: world(tasks, compensations).script,
            persist: true,
          });
          const inMemory = await simulate(definition, {
            script: world(tasks, compensations).script,
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
