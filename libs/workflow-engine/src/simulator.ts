import { type WorkflowDefinition } from './definition.schema';
import {
  type ExecuteCompensationCommand,
  type ExecuteTaskCommand,
  type RequestApprovalCommand,
  type RequestDecisionCommand,
  type EngineCommand,
} from './engine-command';
import { type WorkflowInput } from './engine-input';
import { type WorkflowInstanceState, isTerminal } from './instance-state';
import { type JsonValue } from './json-value';
import { type TransitionResult, transition } from './transition';

/**
 * How the simulated world answers a task attempt; the simulator plays the task queue as well, so an attempt
 * without an answer times out at its start-to-close:
 * - `succeed`: at once; `duplicate` delivers the same result a second time.
 * - `timeout`: the connector gives up at start-to-close and reports `task.timedOut`.
 * - `hang`: no answer; the queue reports the start-to-close timeout. With `lateOutput`, the success arrives
 *   after all, `lateByMs` (default: the start-to-close) after the timeout.
 * - `queueTimeout`: no worker claimed it within the step's `scheduleToStartMs`.
 */
export type TaskBehaviour =
  | { readonly outcome: 'succeed'; readonly output?: JsonValue; readonly duplicate?: boolean }
  | { readonly outcome: 'fail'; readonly retryable: boolean; readonly error?: string }
  | { readonly outcome: 'timeout' }
  | { readonly outcome: 'hang'; readonly lateOutput?: JsonValue; readonly lateByMs?: number }
  | { readonly outcome: 'queueTimeout' };

/** `hang`: the queue reports the compensation's start-to-close timeout, a retryable failure. */
export type CompensationBehaviour =
  | { readonly outcome: 'succeed'; readonly duplicate?: boolean }
  | { readonly outcome: 'fail'; readonly retryable: boolean; readonly error?: string }
  | { readonly outcome: 'hang' };

/** `ignore` lets the approval time out. */
export type ApprovalBehaviour =
  | { readonly outcome: 'grant'; readonly by?: string }
  | { readonly outcome: 'reject'; readonly by?: string; readonly reason?: string }
  | { readonly outcome: 'ignore' };

export type DecisionBehaviour =
  { readonly outcome: 'decide'; readonly decision: JsonValue } | { readonly outcome: 'ignore' };

/**
 * Plays the outside world. Omitted hooks: tasks succeed with `{}`, compensations succeed, approvals are granted
 * and decisions pick the first option (or `null`).
 */
export interface SimulationScript {
  task?(command: ExecuteTaskCommand, state: WorkflowInstanceState): TaskBehaviour;
  compensation?(command: ExecuteCompensationCommand, state: WorkflowInstanceState): CompensationBehaviour;
  approval?(command: RequestApprovalCommand, state: WorkflowInstanceState): ApprovalBehaviour;
  decision?(command: RequestDecisionCommand, state: WorkflowInstanceState): DecisionBehaviour;
}

export interface SimulationOptions {
  readonly instanceId?: string;
  readonly input?: JsonValue;
  /** Virtual clock start; timers advance it. Defaults to 2025-01-01T00:00:00Z. */
  readonly startAt?: Date;
  readonly script?: SimulationScript;
  /** Safety net against definitions that never settle. Default 10 000. */
  readonly maxTransitions?: number;
  /** Round-trip state through JSON between transitions, as a persisting shell does. Default true. */
  readonly persist?: boolean;
}

export interface SimulationStep {
  readonly at: string;
  readonly input: WorkflowInput;
  readonly result: TransitionResult;
}

export interface SimulationResult {
  readonly state: WorkflowInstanceState;
  readonly steps: readonly SimulationStep[];
  /** Every command in issue order. */
  readonly commands: readonly EngineCommand[];
}

/** An answer the world gives later than at once: a timeout, a late success. */
interface Deferred {
  readonly atMs: number;
  readonly input: WorkflowInput;
}

/**
 * Drives one instance to rest with a scripted outside world and a virtual clock: immediate answers are
 * delivered in command order at the current instant; when none is left the clock jumps to the earliest
 * pending timer or deferred answer (timeouts, late successes; deferred answers first on a tie, and they are
 * still delivered once the instance has ended). Pure apart from awaiting `transition`; useful for dry-running
 * definitions and for tests.
 */
export async function simulate(
  definition: WorkflowDefinition,
  options: SimulationOptions = {},
): Promise<SimulationResult> {
  const script = options.script ?? {};
  const maxTransitions = options.maxTransitions ?? 10_000;
  const persist = options.persist ?? true;
  let clock = (options.startAt ?? new Date('2025-01-01T00:00:00.000Z')).getTime();
  let state: WorkflowInstanceState | undefined;
  const queue: WorkflowInput[] = [
    { type: 'start', instanceId: options.instanceId ?? 'sim-1', input: options.input ?? {} },
  ];
  const steps: SimulationStep[] = [];
  const deferred: Deferred[] = [];

  for (;;) {
    let input = queue.shift();
    if (input === undefined && state !== undefined) {
      const timer = isTerminal(state.status)
        ? undefined
        : Object.values(state.timers).sort(
            (left, right) =>
              left.dueAt.localeCompare(right.dueAt) || left.timerId.localeCompare(right.timerId),
          )[0];
      // Stable: answers deferred to the same instant keep the order they were given in.
      const later = deferred.reduce<Deferred | undefined>(
        (earliest, candidate) =>
          earliest === undefined || candidate.atMs < earliest.atMs ? candidate : earliest,
        undefined,
      );
      if (later !== undefined && (timer === undefined || later.atMs <= Date.parse(timer.dueAt))) {
        deferred.splice(deferred.indexOf(later), 1);
        clock = Math.max(clock, later.atMs);
        input = later.input;
      } else if (timer !== undefined) {
        clock = Math.max(clock, Date.parse(timer.dueAt));
        input = { type: 'timer.fired', timerId: timer.timerId };
      }
    }
    if (input === undefined) break;
    if (steps.length >= maxTransitions) {
      throw new Error(`simulation did not settle within ${maxTransitions} transitions`);
    }
    const at = new Date(clock);
    const result = await transition(definition, state, input, at);
    steps.push({ at: at.toISOString(), input, result });
    state = persist ? (JSON.parse(JSON.stringify(result.state)) as WorkflowInstanceState) : result.state;
    for (const command of result.commands) {
      for (const reply of answer(command, state, script)) {
        if (reply.afterMs === 0) queue.push(reply.input);
        else deferred.push({ atMs: clock + reply.afterMs, input: reply.input });
      }
    }
  }
  if (state === undefined) throw new Error('simulation never started');
  return { state, steps, commands: steps.flatMap((step) => step.result.commands) };
}

/** An input from the world, `afterMs` after the command that caused it (0: at once). */
interface Reply {
  readonly afterMs: number;
  readonly input: WorkflowInput;
}

const now = (input: WorkflowInput): Reply => ({ afterMs: 0, input });

function answer(command: EngineCommand, state: WorkflowInstanceState, script: SimulationScript): Reply[] {
  switch (command.type) {
    case 'executeTask':
      return answerTask(command, script.task?.(command, state) ?? { outcome: 'succeed' });
    case 'executeCompensation':
      return answerCompensation(command, script.compensation?.(command, state) ?? { outcome: 'succeed' });
    case 'requestApproval':
      return answerApproval(command, script.approval?.(command, state) ?? { outcome: 'grant' });
    case 'requestDecision': {
      const behaviour = script.decision?.(command, state) ?? {
        outcome: 'decide',
        decision: command.options?.[0] ?? null,
      };
      if (behaviour.outcome === 'ignore') return [];
      return [
        now({
          type: 'decision.received',
          stepId: command.stepId,
          run: command.run,
          decision: behaviour.decision,
          by: 'simulator',
        }),
      ];
    }
    case 'scheduleTimer':
    case 'cancelTimer':
    case 'emitEvent':
    case 'complete':
      return [];
  }
}

function answerTask(command: ExecuteTaskCommand, behaviour: TaskBehaviour): Reply[] {
  const { stepId, run, attempt, timeouts } = command;
  const startToClose = timeouts.startToCloseMs;
  switch (behaviour.outcome) {
    case 'succeed': {
      const success = now({ type: 'task.succeeded', stepId, run, attempt, output: behaviour.output ?? {} });
      return behaviour.duplicate === true ? [success, success] : [success];
    }
    case 'fail':
      return [
        now({
          type: 'task.failed',
          stepId,
          run,
          attempt,
          error: behaviour.error ?? 'simulated failure',
          retryable: behaviour.retryable,
        }),
      ];
    case 'timeout':
      return [{ afterMs: startToClose, input: { type: 'task.timedOut', stepId, run, attempt } }];
    case 'hang': {
      const timedOut: Reply = {
        afterMs: startToClose,
        input: { type: 'task.timedOut', stepId, run, attempt, timeout: 'startToClose' },
      };
      if (behaviour.lateOutput === undefined) return [timedOut];
      const late: WorkflowInput = {
        type: 'task.succeeded',
        stepId,
        run,
        attempt,
        output: behaviour.lateOutput,
      };
      return [timedOut, { afterMs: startToClose + (behaviour.lateByMs ?? startToClose), input: late }];
    }
    case 'queueTimeout':
      if (timeouts.scheduleToStartMs === undefined) {
        throw new Error(`task '${stepId}' sets no scheduleToStartMs, so it cannot time out in the queue`);
      }
      return [
        {
          afterMs: timeouts.scheduleToStartMs,
          input: { type: 'task.timedOut', stepId, run, attempt, timeout: 'scheduleToStart' },
        },
      ];
  }
}

function answerCompensation(command: ExecuteCompensationCommand, behaviour: CompensationBehaviour): Reply[] {
  const { stepId, run, attempt } = command;
  const failed = (error: string, retryable: boolean): WorkflowInput => ({
    type: 'compensation.failed',
    stepId,
    run,
    attempt,
    error,
    retryable,
  });
  switch (behaviour.outcome) {
    case 'succeed': {
      const success = now({ type: 'compensation.succeeded', stepId, run, attempt });
      return behaviour.duplicate === true ? [success, success] : [success];
    }
    case 'fail':
      return [now(failed(behaviour.error ?? 'simulated failure', behaviour.retryable))];
    case 'hang':
      return [{ afterMs: command.timeouts.startToCloseMs, input: failed('startToClose timeout', true) }];
  }
}

function answerApproval({ stepId, run }: RequestApprovalCommand, behaviour: ApprovalBehaviour): Reply[] {
  switch (behaviour.outcome) {
    case 'grant':
      return [now({ type: 'approval.granted', stepId, run, by: behaviour.by ?? 'simulator' })];
    case 'reject':
      return [
        now({
          type: 'approval.rejected',
          stepId,
          run,
          by: behaviour.by ?? 'simulator',
          ...(behaviour.reason === undefined ? {} : { reason: behaviour.reason }),
        }),
      ];
    case 'ignore':
      return [];
  }
}
