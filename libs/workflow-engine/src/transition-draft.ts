import { renderCall } from './connector-render';
import { type DefinitionIndex, branchScope, locate, taskStep } from './definition-index';
import {
  type ApprovalStep,
  type ChoiceStep,
  type DecisionStep,
  type EndStep,
  type ParallelStep,
  type TaskRetryPolicy,
  type StepId,
  type TaskStep,
  type WaitStep,
} from './definition.schema';
import {
  attemptCommand,
  type RequestApprovalCommand,
  type RequestDecisionCommand,
  type EngineCommand,
  type WorkflowEventName,
} from './engine-command';
import {
  type ExpressionScope,
  ExpressionEvaluationError,
  evaluateExpression,
  renderText,
} from './expression';
import {
  type CompensationEntry,
  type InstanceFailure,
  type PendingApproval,
  type PendingTimer,
  type StepExecution,
  type TerminalStatus,
  type Token,
  type WorkflowInstanceState,
  isTerminal,
} from './instance-state';
import { type JsonObject, type JsonValue } from './json-value';

// A transition only enters steps that never wait (choice, elapsed wait, end, parallel) back to back; a loop of
// those is rejected at load when it is made of choices alone, and this budget stops any other shape.
const maxStepEntriesPerTransition = 1_000;

/** Own-property lookup: step ids such as `constructor` must not resolve to `Object.prototype` members. */
export function own<Value>(record: Readonly<Record<string, Value>>, key: string): Value | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Delay before the attempt after `failedAttempt` (1-based): exponential, capped, without jitter (deterministic). */
function backoffDelay(policy: TaskRetryPolicy, failedAttempt: number): number {
  return Math.min(
    policy.maxDelayMs,
    Math.round(policy.initialDelayMs * policy.backoffMultiplier ** (failedAttempt - 1)),
  );
}

/**
 * A private copy of an instance's state that one transition mutates, plus the commands it produces. Keeping the
 * mutation on a copy is what lets `transition` stay pure: the caller's state object is never touched, and an
 * input found to be irrelevant half-way is dropped by discarding the draft.
 */
export class TransitionDraft {
  readonly commands: EngineCommand[] = [];
  readonly at: string;
  private stepEntries = 0;

  constructor(
    readonly index: DefinitionIndex,
    readonly state: WorkflowInstanceState,
    readonly nowMs: number,
  ) {
    this.at = new Date(nowMs).toISOString();
  }

  get unwinding(): boolean {
    return this.state.failure !== undefined;
  }

  emit(event: WorkflowEventName, detail: JsonObject, stepId?: StepId): void {
    this.commands.push({
      type: 'emitEvent',
      event,
      sequence: this.state.seq,
      ...(stepId === undefined ? {} : { stepId }),
      detail,
    });
  }

  /** Sets the status from what the instance is doing and returns the result. */
  finish(): { state: WorkflowInstanceState; commands: EngineCommand[] } {
    if (!isTerminal(this.state.status) && !this.unwinding) {
      const busy = Object.values(this.state.executions).some(
        (execution) =>
          execution.kind === 'task' && (execution.status === 'running' || execution.status === 'retrying'),
      );
      this.state.status = busy ? 'running' : 'waiting';
    }
    return { state: this.state, commands: this.commands };
  }

  scope(document: JsonValue = this.state.context): ExpressionScope {
    return {
      document,
      nowMs: this.nowMs,
      instance: {
        id: this.state.instanceId,
        workflow: this.state.workflow.name,
        version: this.state.workflow.version,
      },
    };
  }

  token(tokenId: string): Token {
    const token = own(this.state.tokens, tokenId);
    if (token === undefined) throw new Error(`token '${tokenId}' does not exist`);
    return token;
  }

  private iso(offsetMs: number): string {
    return new Date(this.nowMs + offsetMs).toISOString();
  }

  private schedule(timer: PendingTimer): void {
    this.state.timers[timer.timerId] = timer;
    this.commands.push({
      type: 'scheduleTimer',
      timerId: timer.timerId,
      dueAt: timer.dueAt,
      purpose: timer.purpose,
      stepId: timer.stepId,
    });
  }

  cancelTimer(timerId: string | undefined): void {
    if (timerId === undefined || own(this.state.timers, timerId) === undefined) return;
    delete this.state.timers[timerId];
    this.commands.push({ type: 'cancelTimer', timerId });
  }

  /** Moves a token onto `stepId` and keeps going while steps complete without waiting. */
  async enter(tokenId: string, stepId: StepId): Promise<void> {
    let next: StepId | undefined = stepId;
    while (next !== undefined && !this.unwinding) next = await this.enterStep(this.token(tokenId), next);
  }

  /** Returns the step to continue with when the entered step completed at once. */
  private async enterStep(token: Token, stepId: StepId): Promise<StepId | undefined> {
    this.stepEntries += 1;
    if (this.stepEntries > maxStepEntriesPerTransition) {
      await this.unwind({
        cause: 'step-budget',
        stepId,
        message: `more than ${maxStepEntriesPerTransition} steps entered in one transition: a loop never waits`,
      });
      return undefined;
    }
    token.stepId = stepId;
    const { step } = locate(this.index, stepId);
    const execution: StepExecution = {
      stepId,
      kind: step.kind,
      tokenId: token.id,
      run: (own(this.state.executions, stepId)?.run ?? 0) + 1,
      attempt: 0,
      status: 'running',
      startedAt: this.at,
    };
    this.state.executions[stepId] = execution;
    try {
      switch (step.kind) {
        case 'task':
          await this.startTask(execution, step);
          return undefined;
        case 'choice':
          return await this.choose(execution, step);
        case 'approval':
          await this.requestApproval(execution, step);
          return undefined;
        case 'wait':
          return await this.startWait(execution, step);
        case 'decision':
          await this.requestDecision(execution, step);
          return undefined;
        case 'parallel':
          await this.fork(token, execution, step);
          return undefined;
        case 'end':
          await this.reachEnd(token, execution, step);
          return undefined;
      }
    } catch (error) {
      if (!(error instanceof ExpressionEvaluationError)) throw error;
      execution.status = 'failed';
      execution.error = error.message;
      execution.finishedAt = this.at;
      this.emit('step.failed', { run: execution.run, error: error.message }, stepId);
      await this.unwind({
        cause: 'expression-failed',
        stepId,
        message: `step '${stepId}': ${error.message}`,
      });
      return undefined;
    }
  }

  private async startTask(execution: StepExecution, step: TaskStep): Promise<void> {
    execution.idempotencyKey = `${this.state.instanceId}:${execution.stepId}:run${execution.run}`;
    execution.call = await renderCall(step.connector, this.scope());
    this.issueTaskAttempt(execution, step);
  }

  /** Issues the next attempt of a task run with the run's rendered call and idempotency key. */
  issueTaskAttempt(execution: StepExecution, step: TaskStep): void {
    const { stepId, run, idempotencyKey, call } = execution;
    if (idempotencyKey === undefined || call === undefined) {
      throw new Error(`task '${stepId}' has no rendered call`);
    }
    execution.attempt += 1;
    execution.status = 'running';
    const { attempt } = execution;
    // No timer: the task queue enforces the attempt's timeouts from the claim and reports `task.timedOut`.
    this.commands.push(attemptCommand('executeTask', { stepId, run, attempt, idempotencyKey, call }, step));
    this.emit('task.issued', { run, attempt, idempotencyKey, connector: call.type }, stepId);
  }

  async taskSucceeded(execution: StepExecution, output: JsonValue): Promise<void> {
    const step = taskStep(this.index, execution.stepId);
    this.cancelTimer(execution.timerId);
    delete execution.timerId;
    execution.status = 'succeeded';
    execution.finishedAt = this.at;
    this.state.context.steps[execution.stepId] = { output };
    if (step.compensate !== undefined && execution.idempotencyKey !== undefined) {
      this.state.compensations.push({
        stepId: execution.stepId,
        run: execution.run,
        completedAt: this.at,
        output,
        idempotencyKey: `${execution.idempotencyKey}:compensate`,
        status: 'registered',
        attempt: 0,
      });
    }
    this.emit('task.succeeded', { run: execution.run, attempt: execution.attempt }, execution.stepId);
    if (this.unwinding) await this.continueCompensation();
    else await this.enter(execution.tokenId, step.next);
  }

  /**
   * One attempt failed or timed out: back off and retry while the policy allows, else fail the step.
   * `effectUnknown`: the attempt had started and gave no answer, so its effect may have landed.
   */
  async taskAttemptFailed(
    execution: StepExecution,
    error: string,
    retryable: boolean,
    effectUnknown: boolean,
  ): Promise<void> {
    const step = taskStep(this.index, execution.stepId);
    const { stepId, run, attempt } = execution;
    this.cancelTimer(execution.timerId);
    delete execution.timerId;
    if (effectUnknown) execution.effectUnknown = true;
    this.emit(
      'task.attemptFailed',
      { run, attempt, error, retryable, ...(effectUnknown ? { effectUnknown } : {}) },
      stepId,
    );
    if (!this.unwinding && retryable && attempt < step.retry.maxAttempts) {
      execution.status = 'retrying';
      execution.error = error;
      execution.timerId = `${stepId}:run${run}:retry:${attempt}`;
      const dueAt = this.iso(backoffDelay(step.retry, attempt));
      this.schedule({ timerId: execution.timerId, dueAt, purpose: 'retry', stepId, run, attempt });
      this.emit('task.retryScheduled', { run, nextAttempt: attempt + 1, dueAt }, stepId);
      return;
    }
    execution.status = 'failed';
    execution.error = error;
    execution.finishedAt = this.at;
    this.emit('task.failed', { run, attempts: attempt, error }, stepId);
    this.registerUnknownEffect(execution, step);
    if (this.unwinding) await this.continueCompensation();
    else {
      await this.unwind({
        cause: 'step-failed',
        stepId,
        message: `task '${stepId}' failed after ${attempt} attempt(s): ${error}`,
      });
    }
  }

  /**
   * A compensable run that ends without success although an attempt of it may have landed goes onto the
   * stack like a completed run: its compensation (keyed by the run) undoes the effect if it landed and is
   * harmless if it did not. It sees `output: null` unless a late success supplies the output first.
   */
  private registerUnknownEffect(execution: StepExecution, step: TaskStep): void {
    if (execution.effectUnknown !== true || step.compensate === undefined) return;
    const { stepId, run, idempotencyKey } = execution;
    if (idempotencyKey === undefined) return;
    this.state.compensations.push({
      stepId,
      run,
      completedAt: this.at,
      output: null,
      effectUnknown: true,
      idempotencyKey: `${idempotencyKey}:compensate`,
      status: 'registered',
      attempt: 0,
    });
  }

  /**
   * A success for a run the engine gave up on (timed out, replaced, withdrawn), arriving after the run ended.
   * It changes nothing the run's outcome decided: the effect is undone by the run's compensation (which,
   * while not yet issued, now sees the real output), or it belongs to the run that already succeeded under the
   * same key, or the step has no compensation. Recorded so the history shows the effect landed. Returns false
   * for a success of no run the engine gave up on (a duplicate, or for a run it never issued).
   */
  lateTaskSuccess(stepId: StepId, run: number, attempt: number, output: JsonValue): boolean {
    const entry = this.state.compensations.find(
      (candidate) => candidate.stepId === stepId && candidate.run === run && candidate.effectUnknown === true,
    );
    const execution = own(this.state.executions, stepId);
    const givenUp =
      execution?.kind === 'task' &&
      execution.run === run &&
      execution.effectUnknown === true &&
      attempt <= execution.attempt;
    if (entry === undefined && !givenUp) return false;
    let disposition: string;
    if (entry === undefined) {
      disposition = execution?.status === 'succeeded' ? 'run-succeeded' : 'nothing-to-undo';
    } else if (entry.status === 'registered') {
      entry.output = output;
      disposition = 'compensation-pending';
    } else {
      disposition = {
        running: 'compensating',
        retrying: 'compensating',
        succeeded: 'compensated',
        failed: 'compensation-failed',
      }[entry.status];
    }
    this.emit('task.lateSucceeded', { run, attempt, disposition }, stepId);
    return true;
  }

  private async choose(execution: StepExecution, step: ChoiceStep): Promise<StepId> {
    let taken: { next: StepId; choice: number | 'otherwise' } = { next: step.otherwise, choice: 'otherwise' };
    for (const [position, choice] of step.choices.entries()) {
      const result = await evaluateExpression(choice.when, this.scope());
      if (result === true) {
        taken = { next: choice.next, choice: position };
        break;
      }
      // A missing value reads as "not this way"; anything else non-boolean is a modelling error worth surfacing.
      if (result !== false && result !== undefined) {
        throw new ExpressionEvaluationError(
          choice.when,
          `must evaluate to a boolean, got ${JSON.stringify(result)}`,
        );
      }
    }
    execution.status = 'succeeded';
    execution.finishedAt = this.at;
    this.emit('choice.taken', { run: execution.run, ...taken }, execution.stepId);
    return taken.next;
  }

  private async requestApproval(execution: StepExecution, step: ApprovalStep): Promise<void> {
    const prompt = step.prompt === undefined ? undefined : await renderText(step.prompt, this.scope());
    const request: RequestApprovalCommand = {
      type: 'requestApproval',
      stepId: execution.stepId,
      run: execution.run,
      title: step.title,
      ...(prompt === undefined ? {} : { prompt }),
      approverRole: step.approverRole,
      escalated: false,
      dueAt: this.iso(step.timeoutMs),
    };
    this.awaitApproval(execution, request, 'approval.requested');
  }

  /** First timeout of an escalating approval: the same request goes to `escalateTo` with a fresh deadline. */
  escalateApproval(execution: StepExecution, pending: PendingApproval, step: ApprovalStep): void {
    const request: RequestApprovalCommand = {
      ...pending.request,
      approverRole: step.escalateTo ?? step.approverRole,
      escalated: true,
      dueAt: this.iso(step.escalationTimeoutMs ?? step.timeoutMs),
    };
    this.awaitApproval(execution, request, 'approval.escalated');
  }

  private awaitApproval(
    execution: StepExecution,
    request: RequestApprovalCommand,
    event: 'approval.requested' | 'approval.escalated',
  ): void {
    const { stepId, run } = execution;
    execution.status = 'waiting';
    execution.timerId = `${stepId}:run${run}:approvalTimeout:${request.escalated ? 'escalated' : 'initial'}`;
    this.state.approvals[stepId] = { stepId, run, tokenId: execution.tokenId, request };
    this.commands.push(request);
    this.schedule({
      timerId: execution.timerId,
      dueAt: request.dueAt,
      purpose: 'approvalTimeout',
      stepId,
      run,
    });
    this.emit(event, { run, approverRole: request.approverRole, dueAt: request.dueAt }, stepId);
  }

  /** Records the approver's answer (or the timeout's) and routes on. */
  async resolveApproval(
    execution: StepExecution,
    step: ApprovalStep,
    answer: { approved: boolean; by: string; reason?: string },
  ): Promise<void> {
    const pending = own(this.state.approvals, execution.stepId);
    this.cancelTimer(execution.timerId);
    delete execution.timerId;
    delete this.state.approvals[execution.stepId];
    const output: JsonObject = {
      approved: answer.approved,
      by: answer.by,
      escalated: pending?.request.escalated ?? false,
      ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    };
    this.state.context.steps[execution.stepId] = { output };
    execution.finishedAt = this.at;
    this.emit(
      answer.approved ? 'approval.granted' : 'approval.rejected',
      { run: execution.run, ...output },
      execution.stepId,
    );
    if (answer.approved || step.onReject !== 'compensate') {
      execution.status = 'succeeded';
      await this.enter(
        execution.tokenId,
        step.onReject !== 'compensate' && !answer.approved ? step.onReject.next : step.next,
      );
      return;
    }
    execution.status = 'failed';
    await this.unwind({
      cause: 'approval-rejected',
      stepId: execution.stepId,
      message: `approval '${execution.stepId}' rejected by ${answer.by}${answer.reason === undefined ? '' : `: ${answer.reason}`}`,
    });
  }

  private async startWait(execution: StepExecution, step: WaitStep): Promise<StepId | undefined> {
    const dueMs =
      step.until === undefined ? this.nowMs + (step.durationMs ?? 0) : await this.instantOf(step.until);
    const dueAt = new Date(dueMs).toISOString();
    if (dueMs <= this.nowMs) {
      execution.status = 'succeeded';
      execution.finishedAt = this.at;
      this.emit('wait.elapsed', { run: execution.run, dueAt }, execution.stepId);
      return step.next;
    }
    execution.status = 'waiting';
    execution.timerId = `${execution.stepId}:run${execution.run}:wait`;
    this.schedule({
      timerId: execution.timerId,
      dueAt,
      purpose: 'wait',
      stepId: execution.stepId,
      run: execution.run,
    });
    this.emit('wait.started', { run: execution.run, dueAt }, execution.stepId);
    return undefined;
  }

  private async instantOf(expression: string): Promise<number> {
    const value = await evaluateExpression(expression, this.scope());
    const instant =
      typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
    if (!Number.isFinite(instant)) {
      throw new ExpressionEvaluationError(
        expression,
        `must yield an ISO-8601 time or epoch milliseconds, got ${JSON.stringify(value)}`,
      );
    }
    return instant;
  }

  async waitElapsed(execution: StepExecution, step: WaitStep): Promise<void> {
    delete execution.timerId;
    execution.status = 'succeeded';
    execution.finishedAt = this.at;
    this.emit('wait.elapsed', { run: execution.run }, execution.stepId);
    await this.enter(execution.tokenId, step.next);
  }

  private async requestDecision(execution: StepExecution, step: DecisionStep): Promise<void> {
    const context =
      step.context === undefined
        ? structuredClone(this.state.context)
        : ((await evaluateExpression(step.context, this.scope())) ?? null);
    const request: RequestDecisionCommand = {
      type: 'requestDecision',
      stepId: execution.stepId,
      run: execution.run,
      question: step.question,
      ...(step.options === undefined ? {} : { options: [...step.options] }),
      context,
    };
    execution.status = 'waiting';
    this.state.decisions[execution.stepId] = {
      stepId: execution.stepId,
      run: execution.run,
      tokenId: execution.tokenId,
      request,
    };
    this.commands.push(request);
    this.emit('decision.requested', { run: execution.run }, execution.stepId);
  }

  async decisionReceived(
    execution: StepExecution,
    step: DecisionStep,
    answer: { decision: JsonValue; by?: string; rationale?: string },
  ): Promise<void> {
    delete this.state.decisions[execution.stepId];
    const output: JsonObject = {
      decision: answer.decision,
      ...(answer.by === undefined ? {} : { by: answer.by }),
      ...(answer.rationale === undefined ? {} : { rationale: answer.rationale }),
    };
    this.state.context.steps[execution.stepId] = { output };
    execution.status = 'succeeded';
    execution.finishedAt = this.at;
    this.emit('decision.received', { run: execution.run, ...output }, execution.stepId);
    await this.enter(execution.tokenId, step.next);
  }

  private async fork(token: Token, execution: StepExecution, step: ParallelStep): Promise<void> {
    token.status = 'joining';
    execution.status = 'waiting';
    const children = step.branches.map((branch, index): Token => {
      const child: Token = {
        id: `${token.id}/${execution.stepId}[${index}]`,
        scope: branchScope(execution.stepId, index),
        stepId: branch.start,
        status: 'active',
        parentId: token.id,
      };
      this.state.tokens[child.id] = child;
      this.emit(
        'branch.started',
        {
          run: execution.run,
          branch: index,
          tokenId: child.id,
          ...(branch.name === undefined ? {} : { name: branch.name }),
        },
        execution.stepId,
      );
      return child;
    });
    for (const child of children) {
      // Earlier branches may already have joined and looped back here, replacing these tokens.
      if (this.unwinding || own(this.state.tokens, child.id) !== child) return;
      await this.enter(child.id, child.stepId);
    }
  }

  private async reachEnd(token: Token, execution: StepExecution, step: EndStep): Promise<void> {
    execution.status = 'succeeded';
    execution.finishedAt = this.at;
    if (step.status === 'failed') {
      await this.unwind({
        cause: 'end-failed',
        stepId: execution.stepId,
        message: step.description ?? `reached end step '${execution.stepId}' with status failed`,
      });
      return;
    }
    token.status = 'completed';
    if (token.parentId === undefined) {
      this.finishInstance('completed');
      return;
    }
    this.emit('branch.completed', { tokenId: token.id }, execution.stepId);
    const parent = this.token(token.parentId);
    const siblings = Object.values(this.state.tokens).filter((candidate) => candidate.parentId === parent.id);
    if (!siblings.every((sibling) => sibling.status === 'completed')) return;
    for (const sibling of siblings) delete this.state.tokens[sibling.id];
    parent.status = 'active';
    const join = own(this.state.executions, parent.stepId);
    if (join !== undefined) {
      join.status = 'succeeded';
      join.finishedAt = this.at;
      this.emit('parallel.joined', { run: join.run }, parent.stepId);
    }
    const { step: parallel } = locate(this.index, parent.stepId);
    if (parallel.kind !== 'parallel') {
      throw new Error(`token '${parent.id}' is joining on a ${parallel.kind} step`);
    }
    await this.enter(parent.id, parallel.next);
  }

  /**
   * Releases what a step is waiting on: its timer, its approval or decision request, or a task run that has
   * nothing to undo. A compensable task still in flight is left to settle while unwinding, because its effect
   * may land and then needs compensating. An abandoned run whose effect may have landed is registered for
   * compensation.
   */
  withdraw(execution: StepExecution): void {
    const { stepId, run } = execution;
    switch (execution.status) {
      case 'running': {
        if (execution.kind !== 'task') return;
        const step = taskStep(this.index, stepId);
        if (this.unwinding && step.compensate !== undefined) return;
        this.cancelTimer(execution.timerId);
        execution.effectUnknown = true;
        this.emit('task.abandoned', { run, attempt: execution.attempt, effectUnknown: true }, stepId);
        this.registerUnknownEffect(execution, step);
        break;
      }
      case 'retrying':
        this.cancelTimer(execution.timerId);
        this.emit('task.abandoned', { run, attempt: execution.attempt }, stepId);
        this.registerUnknownEffect(execution, taskStep(this.index, stepId));
        break;
      case 'waiting':
        this.cancelTimer(execution.timerId);
        if (own(this.state.approvals, stepId) !== undefined) {
          delete this.state.approvals[stepId];
          this.emit('approval.withdrawn', { run }, stepId);
        }
        if (own(this.state.decisions, stepId) !== undefined) {
          delete this.state.decisions[stepId];
          this.emit('decision.withdrawn', { run }, stepId);
        }
        if (execution.kind === 'wait') this.emit('wait.withdrawn', { run }, stepId);
        break;
      case 'succeeded':
      case 'failed':
      case 'cancelled':
        return;
    }
    delete execution.timerId;
    execution.status = 'cancelled';
    execution.finishedAt = this.at;
  }

  /**
   * Stops forward progress and starts compensating. The first cause wins; later failures while unwinding only
   * settle their own step.
   */
  async unwind(failure: Omit<InstanceFailure, 'at'>): Promise<void> {
    if (this.unwinding) return;
    this.state.failure = { ...failure, at: this.at };
    this.state.status = 'compensating';
    this.emit('workflow.unwinding', { cause: failure.cause, message: failure.message }, failure.stepId);
    for (const token of Object.values(this.state.tokens)) {
      if (token.status !== 'active' && token.status !== 'joining') continue;
      token.status = 'cancelled';
      const execution = own(this.state.executions, token.stepId);
      if (execution !== undefined && execution.tokenId === token.id) this.withdraw(execution);
    }
    await this.continueCompensation();
  }

  /**
   * Runs compensations one at a time, newest completion first, once no compensable task is still in flight.
   * Called again whenever a task or compensation settles.
   */
  async continueCompensation(): Promise<void> {
    const inFlight = Object.values(this.state.executions).filter(
      (execution) => execution.kind === 'task' && execution.status === 'running',
    );
    if (inFlight.length > 0) {
      this.emit('compensation.draining', { waitingFor: inFlight.map((execution) => execution.stepId) });
      return;
    }
    const stack = this.state.compensations;
    for (let position = stack.length - 1; position >= 0; position -= 1) {
      const entry = stack[position];
      if (entry === undefined || entry.status === 'succeeded' || entry.status === 'failed') continue;
      if (entry.status === 'running' || entry.status === 'retrying') return;
      if (await this.startCompensation(entry)) return;
    }
    this.finishUnwinding();
  }

  /** Returns whether the compensation is now in flight (false: it could not even be rendered). */
  private async startCompensation(entry: CompensationEntry): Promise<boolean> {
    const step = taskStep(this.index, entry.stepId);
    if (step.compensate === undefined) throw new Error(`task '${entry.stepId}' has no compensation`);
    // The compensation sees the output of the run it undoes, even if a later run of the step overwrote it.
    const document = {
      ...this.state.context,
      steps: { ...this.state.context.steps, [entry.stepId]: { output: entry.output } },
    };
    try {
      entry.call = await renderCall(step.compensate, this.scope(document));
    } catch (error) {
      if (!(error instanceof ExpressionEvaluationError)) throw error;
      entry.status = 'failed';
      entry.error = error.message;
      this.emit('compensation.failed', { run: entry.run, attempts: 0, error: error.message }, entry.stepId);
      return false;
    }
    this.issueCompensationAttempt(entry, step);
    return true;
  }

  issueCompensationAttempt(entry: CompensationEntry, step: TaskStep): void {
    const { stepId, run, idempotencyKey, call } = entry;
    if (call === undefined) throw new Error(`compensation of '${stepId}' has no rendered call`);
    entry.attempt += 1;
    entry.status = 'running';
    const { attempt } = entry;
    this.commands.push(
      attemptCommand('executeCompensation', { stepId, run, attempt, idempotencyKey, call }, step),
    );
    this.emit('compensation.issued', { run, attempt, idempotencyKey }, stepId);
  }

  async compensationSucceeded(entry: CompensationEntry): Promise<void> {
    this.cancelTimer(entry.timerId);
    delete entry.timerId;
    entry.status = 'succeeded';
    this.emit('compensation.succeeded', { run: entry.run, attempt: entry.attempt }, entry.stepId);
    await this.continueCompensation();
  }

  /** Compensations retry with their task's policy; one that still fails is recorded and the rest still run. */
  async compensationAttemptFailed(
    entry: CompensationEntry,
    error: string,
    retryable: boolean,
  ): Promise<void> {
    const step = taskStep(this.index, entry.stepId);
    const { stepId, run, attempt } = entry;
    this.cancelTimer(entry.timerId);
    delete entry.timerId;
    entry.error = error;
    if (retryable && attempt < step.retry.maxAttempts) {
      entry.status = 'retrying';
      entry.timerId = `${stepId}:run${run}:compensation:retry:${attempt}`;
      const dueAt = this.iso(backoffDelay(step.retry, attempt));
      this.schedule({
        timerId: entry.timerId,
        dueAt,
        purpose: 'retry',
        stepId,
        run,
        attempt,
        compensation: true,
      });
      this.emit('compensation.retryScheduled', { run, nextAttempt: attempt + 1, dueAt, error }, stepId);
      return;
    }
    entry.status = 'failed';
    this.emit('compensation.failed', { run, attempts: attempt, error }, stepId);
    await this.continueCompensation();
  }

  private finishUnwinding(): void {
    const stack = this.state.compensations;
    const status: TerminalStatus = stack.some((entry) => entry.status === 'failed')
      ? 'failed'
      : this.state.failure?.cause === 'cancelled'
        ? 'cancelled'
        : stack.length > 0
          ? 'compensated'
          : 'failed';
    this.finishInstance(status);
  }

  private finishInstance(status: TerminalStatus): void {
    for (const timerId of Object.keys(this.state.timers)) this.cancelTimer(timerId);
    this.state.status = status;
    this.state.endedAt = this.at;
    const failure = this.state.failure;
    this.emit(
      `workflow.${status}`,
      failure === undefined
        ? {}
        : {
            cause: failure.cause,
            message: failure.message,
            ...(failure.stepId ? { stepId: failure.stepId } : {}),
          },
    );
    this.commands.push({ type: 'complete', status });
  }
}
