import {
  type HttpCall,
  type KafkaCall,
  type PostgresCall,
  type StepId,
  type TaskStep,
} from './definition.schema';
import { type JsonObject, type JsonValue } from './json-value';

/** A connector call with every template rendered: what the I/O shell actually sends. */
export type RenderedConnectorCall =
  | (Omit<HttpCall, 'body'> & { readonly body?: JsonValue })
  | (Omit<KafkaCall, 'value'> & { readonly value: JsonValue })
  | (Omit<PostgresCall, 'params'> & { readonly params: readonly JsonValue[] });

/**
 * Why a timer exists. `taskTimeout` timers are no longer armed (the task queue enforces attempt timeouts from
 * the claim); instances persisted before that may still hold one, and it fires as a stale no-op.
 */
export type TimerPurpose = 'retry' | 'wait' | 'approvalTimeout' | 'taskTimeout';

/**
 * The limits of one attempt, enforced by the shell's task queue, which reports a breach as `task.timedOut`:
 * `scheduleToStartMs` from queueing to a worker's claim, `startToCloseMs` from the claim to the result (the
 * connector gets what is left of it), `heartbeatTimeoutMs` between the running worker's heartbeats.
 */
export interface AttemptTimeouts {
  readonly startToCloseMs: number;
  readonly scheduleToStartMs?: number;
  readonly heartbeatTimeoutMs?: number;
}

/**
 * Run a task attempt. The idempotency key is `instanceId:stepId:runN`: identical for every attempt of a run
 * and for a re-issue after a crash, new for a loop iteration or an operator rerun.
 */
export interface ExecuteTaskCommand {
  readonly type: 'executeTask';
  readonly stepId: StepId;
  readonly run: number;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly call: RenderedConnectorCall;
  readonly timeouts: AttemptTimeouts;
}

/** Undo a completed task run; same key rules as tasks, with a `:compensate` suffix. */
export interface ExecuteCompensationCommand {
  readonly type: 'executeCompensation';
  readonly stepId: StepId;
  readonly run: number;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly call: RenderedConnectorCall;
  readonly timeouts: AttemptTimeouts;
}

/** Deliver `timer.fired { timerId }` at `dueAt` (ISO-8601, UTC). Timer ids are unique within an instance. */
export interface ScheduleTimerCommand {
  readonly type: 'scheduleTimer';
  readonly timerId: string;
  readonly dueAt: string;
  readonly purpose: TimerPurpose;
  readonly stepId: StepId;
}

/** Drop a scheduled timer; a timer that fires anyway is ignored as stale. */
export interface CancelTimerCommand {
  readonly type: 'cancelTimer';
  readonly timerId: string;
}

/** Ask people holding `approverRole` to approve; answered by `approval.granted` / `approval.rejected`. */
export interface RequestApprovalCommand {
  readonly type: 'requestApproval';
  readonly stepId: StepId;
  readonly run: number;
  readonly title: string;
  readonly prompt?: string;
  readonly approverRole: string;
  readonly escalated: boolean;
  readonly dueAt: string;
}

/** Ask the decisioning agent; answered by `decision.received`. */
export interface RequestDecisionCommand {
  readonly type: 'requestDecision';
  readonly stepId: StepId;
  readonly run: number;
  readonly question: string;
  readonly options?: readonly string[];
  readonly context: JsonValue;
}

/** Names of the facts published on `keel.workflow.events.v1`. */
export type WorkflowEventName =
  | 'workflow.started'
  | 'workflow.completed'
  | 'workflow.compensated'
  | 'workflow.failed'
  | 'workflow.cancelled'
  | 'workflow.cancelRequested'
  | 'workflow.unwinding'
  | 'step.entered'
  | 'task.issued'
  | 'task.succeeded'
  | 'task.attemptFailed'
  | 'task.retryScheduled'
  | 'task.failed'
  | 'task.abandoned'
  | 'task.lateSucceeded'
  | 'choice.taken'
  | 'approval.requested'
  | 'approval.escalated'
  | 'approval.granted'
  | 'approval.rejected'
  | 'approval.withdrawn'
  | 'decision.requested'
  | 'decision.received'
  | 'decision.withdrawn'
  | 'wait.started'
  | 'wait.elapsed'
  | 'wait.withdrawn'
  | 'branch.started'
  | 'branch.completed'
  | 'parallel.joined'
  | 'step.failed'
  | 'compensation.draining'
  | 'compensation.issued'
  | 'compensation.succeeded'
  | 'compensation.retryScheduled'
  | 'compensation.failed'
  | 'operator.retryStep'
  | 'operator.rerunFrom'
  | 'input.ignored';

/**
 * A fact for `keel.workflow.events.v1`. `sequence` is the instance's history sequence after the transition;
 * together with the command's position it identifies the event. Ignored inputs repeat the current sequence, so
 * the shell should key those by the inbound message instead.
 */
export interface EmitEventCommand {
  readonly type: 'emitEvent';
  readonly event: WorkflowEventName;
  readonly sequence: number;
  readonly stepId?: StepId;
  readonly detail: JsonObject;
}

/** The instance reached a terminal status; emitted exactly once per instance. */
export interface CompleteCommand {
  readonly type: 'complete';
  readonly status: 'completed' | 'compensated' | 'failed' | 'cancelled';
}

/** Everything the pure core asks the I/O shell to do. Carry them out in order. */
export type EngineCommand =
  | ExecuteTaskCommand
  | ExecuteCompensationCommand
  | ScheduleTimerCommand
  | CancelTimerCommand
  | RequestApprovalCommand
  | RequestDecisionCommand
  | EmitEventCommand
  | CompleteCommand;

/** Where an attempt's command comes from: a task execution or a compensation entry recorded in state. */
export interface AttemptSource {
  readonly stepId: StepId;
  readonly run: number;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly call: RenderedConnectorCall;
}

/** The command that issues (or, after a crash, re-issues) an attempt exactly as state records it. */
export function attemptCommand<Type extends 'executeTask' | 'executeCompensation'>(
  type: Type,
  { stepId, run, attempt, idempotencyKey, call }: AttemptSource,
  step: TaskStep,
): Extract<EngineCommand, { type: Type }> {
  const timeouts: AttemptTimeouts = {
    startToCloseMs: step.startToCloseMs,
    ...(step.scheduleToStartMs === undefined ? {} : { scheduleToStartMs: step.scheduleToStartMs }),
    ...(step.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: step.heartbeatTimeoutMs }),
  };
  return { type, stepId, run, attempt, idempotencyKey, call, timeouts } as Extract<
    EngineCommand,
    { type: Type }
  >;
}
