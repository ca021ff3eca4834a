import { type WorkflowDefinition } from './definition.schema';
import {
  type ExecuteCompensationCommand,
  type ExecuteTaskCommand,
  type RequestApprovalCommand,
  type RequestDecisionCommand,
  type WorkflowCommand,
} from './engine-command';
import { type WorkflowInput } from './engine-input';
import { type WorkflowInstanceState, isTerminal } from './instance-state';
import { type JsonValue } from './json-value';
import { type TransitionResult, transition } from './transition';

/**
 * How a simulated connector answers a task attempt: `timeout` is the connector reporting `task.timedOut`,
 * `hang` never answers (the engine's own timeout timer fires).
 */
export type TaskBehaviour =
  | { readonly outcome: 'succeed'; readonly output?: JsonValue }
  | { readonly outcome: 'fail'; readonly retryable: boolean; readonly error?: string }
  | { readonly outcome: 'timeout' }
  | { readonly outcome: 'hang' };

export type CompensationBehaviour =
  | { readonly outcome: 'succeed' }
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
  readonly commands: readonly WorkflowCommand[];
}

/**
 * Drives one instance to rest with a scripted outside world and a virtual clock: answers are delivered in
 * command order at the current instant, and when nothing is left the clock jumps to the earliest pending timer.
 * Pure apart from awaiting `transition`; useful for dry-running definitions and for tests.
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

  for (;;) {
    let input = queue.shift();
    if (input === undefined && state !== undefined && !isTerminal(state.status)) {
      const timer = Object.values(state.timers).sort(
        (left, right) => left.dueAt.localeCompare(right.dueAt) || left.timerId.localeCompare(right.timerId),
      )[0];
      if (timer !== undefined) {
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
    for (const command of result.commands) queue.push(...answer(command, state, script));
  }
  if (state === undefined) throw new Error('simulation never started');
  return { state, steps, commands: steps.flatMap((step) => step.result.commands) };
}

function answer(
  command: WorkflowCommand,
  state: WorkflowInstanceState,
  script: SimulationScript,
): WorkflowInput[] {
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
        {
          type: 'decision.received',
          stepId: command.stepId,
          run: command.run,
          decision: behaviour.decision,
          by: 'simulator',
        },
      ];
    }
    case 'scheduleTimer':
    case 'cancelTimer':
    case 'emitEvent':
    case 'complete':
      return [];
  }
}

function answerTask({ stepId, run, attempt }: ExecuteTaskCommand, behaviour: TaskBehaviour): WorkflowInput[] {
  switch (behaviour.outcome) {
    case 'succeed':
      return [{ type: 'task.succeeded', stepId, run, attempt, output: behaviour.output ?? {} }];
    case 'fail':
      return [
        {
          type: 'task.failed',
          stepId,
          run,
          attempt,
          error: behaviour.error ?? 'simulated failure',
          retryable: behaviour.retryable,
        },
      ];
    case 'timeout':
      return [{ type: 'task.timedOut', stepId, run, attempt }];
    case 'hang':
      return [];
  }
}

function answerCompensation(
  { stepId, run, attempt }: ExecuteCompensationCommand,
  behaviour: CompensationBehaviour,
): WorkflowInput[] {
  switch (behaviour.outcome) {
    case 'succeed':
      return [{ type: 'compensation.succeeded', stepId, run, attempt }];
    case 'fail':
      return [
        {
          type: 'compensation.failed',
          stepId,
          run,
          attempt,
          error: behaviour.error ?? 'simulated failure',
          retryable: behaviour.retryable,
        },
      ];
    case 'hang':
      return [];
  }
}

function answerApproval(
  { stepId, run }: RequestApprovalCommand,
  behaviour: ApprovalBehaviour,
): WorkflowInput[] {
  switch (behaviour.outcome) {
    case 'grant':
      return [{ type: 'approval.granted', stepId, run, by: behaviour.by ?? 'simulator' }];
    case 'reject':
      return [
        {
          type: 'approval.rejected',
          stepId,
          run,
          by: behaviour.by ?? 'simulator',
          ...(behaviour.reason === undefined ? {} : { reason: behaviour.reason }),
        },
      ];
    case 'ignore':
      return [];
  }
}
