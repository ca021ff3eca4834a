import { type StepId, type StepKind, type WorkflowDefinition } from './definition.schema';
import {
  type RenderedConnectorCall,
  type RequestApprovalCommand,
  type RequestDecisionCommand,
  type TimerPurpose,
} from './engine-command';
import { WorkflowEngineError } from './engine.error';
import { type JsonValue } from './json-value';

/** Lifecycle of an instance; see the README for the state diagram. */
export type InstanceStatus =
  'running' | 'waiting' | 'completed' | 'failed' | 'compensating' | 'compensated' | 'cancelled';

/** Statuses an instance never leaves. */
export type TerminalStatus = 'completed' | 'failed' | 'compensated' | 'cancelled';

const terminal: ReadonlySet<InstanceStatus> = new Set<TerminalStatus>([
  'completed',
  'failed',
  'compensated',
  'cancelled',
]);

/** Whether an instance with this status accepts no further transitions. */
export function isTerminal(status: InstanceStatus): status is TerminalStatus {
  return terminal.has(status);
}

/** A point of execution. The top-level flow has token `root`; each running parallel branch has its own. */
export interface Token {
  readonly id: string;
  /** `root`, or `<parallelStepId>[<branchIndex>]`. */
  readonly scope: string;
  stepId: StepId;
  /** `joining`: parked on a parallel step until its branch tokens complete. */
  status: 'active' | 'joining' | 'completed' | 'cancelled';
  readonly parentId?: string;
}

/** Latest run of a step. Earlier runs (loops, reruns) live only in the event history. */
export interface StepExecution {
  readonly stepId: StepId;
  readonly kind: StepKind;
  readonly tokenId: string;
  /** 1 for the first time the step is entered, +1 per re-entry. */
  readonly run: number;
  /** Task attempts issued in this run (0 for steps that are not tasks). */
  attempt: number;
  status: 'running' | 'retrying' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
  readonly startedAt: string;
  finishedAt?: string;
  /** Tasks only: `instanceId:stepId:runN`. */
  idempotencyKey?: string;
  /** Tasks only: rendered once per run, so every attempt and any re-issue sends the same request. */
  call?: RenderedConnectorCall;
  /** The step's one pending timer (retry back-off, wait, approval timeout). */
  timerId?: string;
  error?: string;
  /**
   * Tasks only: an attempt of this run was given up on without an answer (it timed out after starting, an
   * operator replaced it, or it was withdrawn while running), so the run's effect may have landed. A run that
   * then ends without success is still compensated.
   */
  effectUnknown?: true;
}

/** A timer the shell has been asked to fire. */
export interface PendingTimer {
  readonly timerId: string;
  readonly dueAt: string;
  readonly purpose: TimerPurpose;
  readonly stepId: StepId;
  readonly run: number;
  readonly attempt?: number;
  /** Set for timers that belong to a compensation rather than to the task itself. */
  readonly compensation?: true;
}

export interface PendingApproval {
  readonly stepId: StepId;
  readonly run: number;
  readonly tokenId: string;
  /** The request as last sent, kept so it can be re-sent after a crash. */
  readonly request: RequestApprovalCommand;
}

export interface PendingDecision {
  readonly stepId: StepId;
  readonly run: number;
  readonly tokenId: string;
  readonly request: RequestDecisionCommand;
}

/** A completed task run that has a compensation, with that compensation's progress. */
export interface CompensationEntry {
  readonly stepId: StepId;
  readonly run: number;
  readonly completedAt: string;
  /**
   * The run's output; the compensation template sees it as `steps.<id>.output`. `null` for a run whose
   * effect is unknown, until a late success brings the output.
   */
  output: JsonValue;
  /** The run never succeeded, but an attempt of it may have landed: compensated in case it did. */
  readonly effectUnknown?: true;
  readonly idempotencyKey: string;
  status: 'registered' | 'running' | 'retrying' | 'succeeded' | 'failed';
  attempt: number;
  call?: RenderedConnectorCall;
  timerId?: string;
  error?: string;
}

/** Why an instance is unwinding. */
export interface InstanceFailure {
  readonly cause:
    'step-failed' | 'approval-rejected' | 'end-failed' | 'expression-failed' | 'step-budget' | 'cancelled';
  readonly stepId?: StepId;
  readonly message: string;
  readonly at: string;
}

/**
 * Everything about one instance, as plain JSON: persist it as one document (e.g. a `jsonb` column keyed by
 * `instanceId`, with `seq` as the optimistic-concurrency version) and hand it back to `transition` unchanged.
 */
export interface WorkflowInstanceState {
  readonly stateVersion: 1;
  readonly instanceId: string;
  /** Pinned at start; the instance is only ever advanced with this definition. */
  readonly workflow: { readonly name: string; readonly version: number };
  status: InstanceStatus;
  /** History sequence number: +1 per applied input. */
  seq: number;
  readonly startedAt: string;
  updatedAt: string;
  /** What expressions see: `{ input, steps: { <id>: { output } } }`. */
  context: { readonly input: JsonValue; steps: Record<StepId, { output: JsonValue }> };
  executions: Record<StepId, StepExecution>;
  tokens: Record<string, Token>;
  timers: Record<string, PendingTimer>;
  approvals: Record<StepId, PendingApproval>;
  decisions: Record<StepId, PendingDecision>;
  /** Compensable task runs in completion order; unwinding walks it from the end. */
  compensations: CompensationEntry[];
  failure?: InstanceFailure;
  endedAt?: string;
}

/**
 * Checks that `definition` is the one `state` was started with. Callers keep every version a live instance may
 * be pinned to and look it up by `state.workflow`; loading v2 never moves a v1 instance.
 *
 * @throws WorkflowEngineError `definition-mismatch`
 */
export function assertPinned(definition: WorkflowDefinition, state: WorkflowInstanceState): void {
  if (definition.name !== state.workflow.name || definition.version !== state.workflow.version) {
    throw new WorkflowEngineError(
      'definition-mismatch',
      `instance '${state.instanceId}' is pinned to ${state.workflow.name} v${state.workflow.version}, ` +
        `not ${definition.name} v${definition.version}`,
    );
  }
}
