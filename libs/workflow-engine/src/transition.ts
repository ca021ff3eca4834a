import { definitionIndex, locate, rootScope, taskStep } from './definition-index';
import { type StepId, type WorkflowDefinition } from './definition.schema';
import { type EngineCommand } from './engine-command';
import { type InputOfType, type StartInput, type WorkflowInput, workflowInputSchema } from './engine-input';
import { WorkflowEngineError } from './engine.error';
import { type WorkflowInstanceState, assertPinned, isTerminal } from './instance-state';
import { clonePlain } from './json-value';
import { TransitionDraft, own } from './transition-draft';

/** Why an input left the instance unchanged. */
export type IgnoredInputCode =
  /** The instance is completed, failed, compensated or cancelled. */
  | 'terminal'
  /** `start` for an instance that already exists (a redelivery). */
  | 'already-started'
  /** A late or duplicate delivery: the run, attempt or timer it answers is no longer current. */
  | 'stale'
  /** The step is not waiting for this kind of answer. */
  | 'not-waiting'
  /** A decision outside the step's `options`; the step keeps waiting. */
  | 'invalid-decision'
  /** An operator request that does not apply to the instance as it is now. */
  | 'not-allowed';

export interface IgnoredInput {
  readonly code: IgnoredInputCode;
  readonly message: string;
}

/**
 * Outcome of one input. When `ignored` is set, `state` is the very object passed in and the only command is an
 * `input.ignored` event; nothing needs persisting.
 */
export interface TransitionResult {
  readonly state: WorkflowInstanceState;
  readonly commands: readonly EngineCommand[];
  readonly ignored?: IgnoredInput;
}

/**
 * The engine's only state transition: applies one input to an instance and returns the new state and the
 * commands the I/O shell must carry out. Pure and deterministic: the arguments are never mutated, time comes
 * from `now`, ids derive from the instance id, and the same arguments always produce the same result.
 * (It is async only because JSONata evaluates asynchronously.)
 *
 * Pass `undefined` state with a `start` input to create an instance.
 *
 * @throws WorkflowEngineError for caller bugs: wrong definition version, malformed input, no state for a
 *   non-start input. Everything that can happen to an instance is expressed in the result instead.
 */
export async function transition(
  definition: WorkflowDefinition,
  state: WorkflowInstanceState | undefined,
  input: WorkflowInput,
  now: Date,
): Promise<TransitionResult> {
  const nowMs = now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(nowMs)) throw new WorkflowEngineError('invalid-input', '`now` must be a valid Date');
  const parsed = workflowInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new WorkflowEngineError(
      'invalid-input',
      `invalid workflow input: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
    );
  }
  // Detach from the caller's objects: whatever of the input lands in state must not alias them.
  const checked = clonePlain(parsed.data);

  if (state === undefined) {
    if (checked.type !== 'start') {
      throw new WorkflowEngineError(
        'not-started',
        `'${checked.type}' arrived for an instance that was never started`,
      );
    }
    return start(definition, checked, nowMs);
  }
  assertPinned(definition, state);
  const draft = new TransitionDraft(definitionIndex(definition), clonePlain(state), nowMs);
  draft.state.seq += 1;
  draft.state.updatedAt = draft.at;
  if (isTerminal(state.status)) {
    // A finished instance takes nothing, but the history keeps a late success: its effect did land.
    if (
      checked.type === 'task.succeeded' &&
      draft.lateTaskSuccess(checked.stepId, checked.run, checked.attempt, checked.output)
    ) {
      return draft.finish();
    }
    return ignore(state, checked, 'terminal', `instance is ${state.status}`);
  }
  if (checked.type === 'start') return ignore(state, checked, 'already-started', 'instance already exists');

  const refusal = await apply(draft, checked);
  if (refusal !== undefined) return ignore(state, checked, refusal.code, refusal.message);
  return draft.finish();
}

async function start(
  definition: WorkflowDefinition,
  input: StartInput,
  nowMs: number,
): Promise<TransitionResult> {
  const at = new Date(nowMs).toISOString();
  const state: WorkflowInstanceState = {
    stateVersion: 1,
    instanceId: input.instanceId,
    workflow: { name: definition.name, version: definition.version },
    status: 'running',
    seq: 1,
    startedAt: at,
    updatedAt: at,
    context: { input: input.input, steps: {} },
    executions: {},
    tokens: { root: { id: 'root', scope: rootScope, stepId: definition.start, status: 'active' } },
    timers: {},
    approvals: {},
    decisions: {},
    compensations: [],
  };
  const draft = new TransitionDraft(definitionIndex(definition), state, nowMs);
  draft.emit('workflow.started', {
    workflow: definition.name,
    version: definition.version,
    input: input.input,
  });
  await draft.enter('root', definition.start);
  return draft.finish();
}

function ignore(
  state: WorkflowInstanceState,
  input: WorkflowInput,
  code: IgnoredInputCode,
  message: string,
): TransitionResult {
  const stepId = 'stepId' in input ? input.stepId : undefined;
  return {
    state,
    commands: [
      {
        type: 'emitEvent',
        event: 'input.ignored',
        sequence: state.seq,
        ...(stepId === undefined ? {} : { stepId }),
        detail: { input: input.type, code, message },
      },
    ],
    ignored: { code, message },
  };
}

/** Applies an input to the draft, or says why it does not apply (the draft is then discarded). */
async function apply(draft: TransitionDraft, input: WorkflowInput): Promise<IgnoredInput | undefined> {
  switch (input.type) {
    case 'start':
      return { code: 'already-started', message: 'instance already exists' };
    case 'task.succeeded':
      return onTaskSucceeded(draft, input);
    case 'task.failed':
      return onTaskFailed(draft, input, input.error, input.retryable, false);
    case 'task.timedOut': {
      const timeout = input.timeout ?? 'startToClose';
      // Only an attempt that never left the queue is known to have had no effect.
      return onTaskFailed(draft, input, `${timeout} timeout`, true, timeout !== 'scheduleToStart');
    }
    case 'timer.fired':
      return onTimerFired(draft, input.timerId);
    case 'approval.granted':
    case 'approval.rejected':
      return onApproval(draft, input);
    case 'decision.received':
      return onDecision(draft, input);
    case 'cancel':
      if (draft.unwinding) return { code: 'not-allowed', message: 'instance is already compensating' };
      draft.emit('workflow.cancelRequested', {
        reason: input.reason,
        ...(input.by === undefined ? {} : { by: input.by }),
      });
      await draft.unwind({ cause: 'cancelled', message: input.reason });
      return undefined;
    case 'compensation.succeeded':
    case 'compensation.failed':
      return onCompensation(draft, input);
    case 'retryStep':
      return onRetryStep(draft, input);
    case 'rerunFrom':
      return onRerunFrom(draft, input);
  }
}

function stale(what: string): IgnoredInput {
  return { code: 'stale', message: what };
}

async function onTaskSucceeded(
  draft: TransitionDraft,
  input: InputOfType<'task.succeeded'>,
): Promise<IgnoredInput | undefined> {
  const { stepId, run, attempt, output } = input;
  const execution = own(draft.state.executions, stepId);
  // Every attempt of a run shares one idempotency key, so an earlier attempt's success is this run's success.
  if (
    execution?.kind === 'task' &&
    execution.run === run &&
    (execution.status === 'running' || execution.status === 'retrying') &&
    attempt <= execution.attempt
  ) {
    await draft.taskSucceeded(execution, output);
    return undefined;
  }
  if (draft.lateTaskSuccess(stepId, run, attempt, output)) return undefined;
  return stale(`task '${stepId}' run ${run} attempt ${attempt} is not outstanding`);
}

async function onTaskFailed(
  draft: TransitionDraft,
  { stepId, run, attempt }: { stepId: StepId; run: number; attempt: number },
  error: string,
  retryable: boolean,
  effectUnknown: boolean,
): Promise<IgnoredInput | undefined> {
  const execution = own(draft.state.executions, stepId);
  if (
    execution?.kind !== 'task' ||
    execution.run !== run ||
    execution.status !== 'running' ||
    execution.attempt !== attempt
  ) {
    return stale(`task '${stepId}' run ${run} attempt ${attempt} is not in flight`);
  }
  await draft.taskAttemptFailed(execution, error, retryable, effectUnknown);
  return undefined;
}

async function onTimerFired(draft: TransitionDraft, timerId: string): Promise<IgnoredInput | undefined> {
  const timer = own(draft.state.timers, timerId);
  if (timer === undefined) return stale(`timer '${timerId}' is not pending`);
  if (timer.purpose === 'taskTimeout') return stale('attempt timeouts are enforced by the task queue');
  delete draft.state.timers[timerId];

  if (timer.compensation) {
    const entry = draft.state.compensations.find(
      (candidate) => candidate.stepId === timer.stepId && candidate.run === timer.run,
    );
    if (entry === undefined || entry.timerId !== timerId) {
      return stale(`timer '${timerId}' no longer guards a compensation`);
    }
    delete entry.timerId;
    draft.issueCompensationAttempt(entry, taskStep(draft.index, entry.stepId));
    return undefined;
  }

  const execution = own(draft.state.executions, timer.stepId);
  if (execution === undefined || execution.run !== timer.run || execution.timerId !== timerId) {
    return stale(`timer '${timerId}' no longer guards step '${timer.stepId}'`);
  }
  delete execution.timerId;
  const { step } = locate(draft.index, timer.stepId);
  switch (timer.purpose) {
    case 'retry':
      if (step.kind !== 'task') break;
      draft.issueTaskAttempt(execution, step);
      return undefined;
    case 'wait':
      if (step.kind !== 'wait') break;
      await draft.waitElapsed(execution, step);
      return undefined;
    case 'approvalTimeout': {
      const pending = own(draft.state.approvals, timer.stepId);
      if (step.kind !== 'approval' || pending === undefined) break;
      if (step.onTimeout === 'escalate' && !pending.request.escalated) {
        draft.escalateApproval(execution, pending, step);
      } else {
        await draft.resolveApproval(execution, step, {
          approved: false,
          by: 'system:timeout',
          reason: 'approval timed out',
        });
      }
      return undefined;
    }
  }
  throw new Error(`timer '${timerId}' (${timer.purpose}) does not fit step '${timer.stepId}' (${step.kind})`);
}

async function onApproval(
  draft: TransitionDraft,
  input: InputOfType<'approval.granted' | 'approval.rejected'>,
): Promise<IgnoredInput | undefined> {
  const pending = own(draft.state.approvals, input.stepId);
  const execution = own(draft.state.executions, input.stepId);
  const { step } = draft.index.steps.get(input.stepId) ?? {};
  if (pending === undefined || execution === undefined || step?.kind !== 'approval') {
    return { code: 'not-waiting', message: `step '${input.stepId}' is not waiting for an approval` };
  }
  if (pending.run !== input.run) {
    return stale(`approval of step '${input.stepId}' run ${input.run} is no longer pending`);
  }
  await draft.resolveApproval(execution, step, {
    approved: input.type === 'approval.granted',
    by: input.by,
    ...(input.reason === undefined ? {} : { reason: input.reason }),
  });
  return undefined;
}

async function onDecision(
  draft: TransitionDraft,
  input: InputOfType<'decision.received'>,
): Promise<IgnoredInput | undefined> {
  const pending = own(draft.state.decisions, input.stepId);
  const execution = own(draft.state.executions, input.stepId);
  const { step } = draft.index.steps.get(input.stepId) ?? {};
  if (pending === undefined || execution === undefined || step?.kind !== 'decision') {
    return { code: 'not-waiting', message: `step '${input.stepId}' is not waiting for a decision` };
  }
  if (pending.run !== input.run) {
    return stale(`decision of step '${input.stepId}' run ${input.run} is no longer pending`);
  }
  if (
    step.options !== undefined &&
    !(typeof input.decision === 'string' && step.options.includes(input.decision))
  ) {
    return {
      code: 'invalid-decision',
      message: `decision ${JSON.stringify(input.decision)} is not one of ${step.options.join(', ')}`,
    };
  }
  await draft.decisionReceived(execution, step, {
    decision: input.decision,
    ...(input.by === undefined ? {} : { by: input.by }),
    ...(input.rationale === undefined ? {} : { rationale: input.rationale }),
  });
  return undefined;
}

async function onCompensation(
  draft: TransitionDraft,
  input: InputOfType<'compensation.succeeded' | 'compensation.failed'>,
): Promise<IgnoredInput | undefined> {
  const entry = draft.state.compensations.find(
    (candidate) => candidate.stepId === input.stepId && candidate.run === input.run,
  );
  const outstanding = entry !== undefined && input.attempt <= entry.attempt;
  // As with tasks, any attempt's success counts (they share a key); only the current attempt's failure does.
  if (
    input.type === 'compensation.succeeded' &&
    outstanding &&
    (entry.status === 'running' || entry.status === 'retrying')
  ) {
    await draft.compensationSucceeded(entry);
    return undefined;
  }
  if (
    input.type === 'compensation.failed' &&
    outstanding &&
    entry.status === 'running' &&
    input.attempt === entry.attempt
  ) {
    await draft.compensationAttemptFailed(entry, input.error, input.retryable);
    return undefined;
  }
  return stale(
    `compensation of '${input.stepId}' run ${input.run} attempt ${input.attempt} is not outstanding`,
  );
}

/** Operator: run the next attempt of a task now, skipping the back-off or replacing an attempt that hangs. */
function onRetryStep(draft: TransitionDraft, input: InputOfType<'retryStep'>): IgnoredInput | undefined {
  const execution = own(draft.state.executions, input.stepId);
  if (draft.unwinding) return { code: 'not-allowed', message: 'instance is compensating' };
  if (execution?.kind !== 'task' || (execution.status !== 'retrying' && execution.status !== 'running')) {
    return {
      code: 'not-allowed',
      message: `step '${input.stepId}' is not a task that is running or waiting to retry`,
    };
  }
  draft.cancelTimer(execution.timerId);
  delete execution.timerId;
  // The attempt still running is not waited for any more; should the run still fail, it may have landed.
  if (execution.status === 'running') execution.effectUnknown = true;
  draft.emit(
    'operator.retryStep',
    { by: input.by, run: execution.run, attempt: execution.attempt + 1 },
    input.stepId,
  );
  draft.issueTaskAttempt(execution, taskStep(draft.index, input.stepId));
  return undefined;
}

/**
 * Operator: move the token of the step's flow (top level or branch) back or forward to `stepId` and run from
 * there. Completed runs are not undone; their compensations stay registered.
 */
async function onRerunFrom(
  draft: TransitionDraft,
  input: InputOfType<'rerunFrom'>,
): Promise<IgnoredInput | undefined> {
  if (draft.unwinding) return { code: 'not-allowed', message: 'instance is compensating' };
  const location = draft.index.steps.get(input.stepId);
  if (location === undefined) {
    return { code: 'not-allowed', message: `step '${input.stepId}' is not in the definition` };
  }
  const token = Object.values(draft.state.tokens).find(
    (candidate) => candidate.scope === location.scope && candidate.status !== 'cancelled',
  );
  if (token === undefined) {
    return { code: 'not-allowed', message: `the flow containing step '${input.stepId}' is not running` };
  }
  if (token.status === 'joining') {
    return { code: 'not-allowed', message: `parallel step '${token.stepId}' still has branches running` };
  }
  const current = own(draft.state.executions, token.stepId);
  if (current?.kind === 'task' && current.status === 'running' && current.tokenId === token.id) {
    return {
      code: 'not-allowed',
      message: `task '${token.stepId}' is in flight; wait for it to settle or time out before rerunning`,
    };
  }
  if (current !== undefined && current.tokenId === token.id) draft.withdraw(current);
  token.status = 'active';
  draft.emit('operator.rerunFrom', { by: input.by, from: token.stepId }, input.stepId);
  await draft.enter(token.id, input.stepId);
  return undefined;
}
