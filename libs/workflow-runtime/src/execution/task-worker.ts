import { SpanKind, activeTraceparent, inTraceOf } from '@keel/tracing';
import type { WorkflowInput } from '@keel/workflow-engine';
import type { ConnectorRegistry } from '../connectors/connector.registry';
import type { ConnectorResult } from '../connectors/connector';
import type { ClaimedTask, TaskRepository, Transactions } from '../persistence/workflow-repositories';
import type { WorkflowMetrics } from '../workflow.metrics';
import type { WorkflowExecutor } from './workflow-executor';

/**
 * Group transactions run at once. Two never wait on each other in a cycle: each locks all its instances in
 * one statement in id order, and claims skip locked rows; a second one lets answers that come while the first
 * commits start theirs.
 */
const maxGroupsAtOnce = 2;

/** The claim on the worker's own when no wake-up came (`TaskWorkerOptions.otherReplicasPollMs`). */
export const defaultOtherReplicasPollMs = 1_000;

export interface TaskWorkerOptions {
  readonly transactions: Transactions;
  readonly tasks: TaskRepository;
  readonly connectors: ConnectorRegistry;
  readonly executor: WorkflowExecutor;
  /** Tasks run at once by this process. */
  readonly concurrency?: number;
  /**
   * Added to an attempt's start-to-close (or heartbeat timeout) to form its lease: the connector has given up
   * by its deadline, so when the lease runs out the worker is gone or stuck, and the attempt is timed out.
   */
  readonly leaseGraceMs?: number;
  /**
   * How long a tick with nothing else to do waits for a call in flight to answer (or for `nudge`). A call that
   * outlasts this keeps its slot and the next tick fills the free ones, so a long task does not hold up the rest.
   */
  readonly batchPatienceMs?: number;
  /** Most results applied in one transaction. */
  readonly maxGroup?: number;
  /**
   * How often the worker claims on its own: attempts this process queued wake it at their commit, and other
   * replicas wake it when they queue attempts they cannot take (`wakeOtherReplicas`); the poll finds what a
   * missed wake-up left.
   */
  readonly otherReplicasPollMs?: number;
  /** This process left attempts queued that it cannot take now (no free slot, or draining). */
  readonly wakeOtherReplicas?: () => void;
  readonly metrics?: WorkflowMetrics;
}

interface Answered {
  readonly task: ClaimedTask;
  readonly result: ConnectorResult;
  /** The attempt's span, which the result's transition continues though it is applied in a group later. */
  readonly traceparent?: string;
}

/**
 * Carries out queued task and compensation attempts (ADR 0005). Claiming an attempt marks it `running` with a
 * lease (committed); its connector is called with the attempt's idempotency key and what is left of its
 * start-to-close, counted from the claim; a worker heartbeats the lease of an attempt that has a heartbeat
 * timeout. The result is then applied to the instance (its row locked first) in the transaction that marks
 * the attempt done. Results that arrive together are applied together (a group commit, ADR 0020): one
 * transaction locks all their instances in id order and writes each table once; should it fail, each result
 * is applied alone, so one bad result never holds up the others. An attempt whose lease runs out is timed
 * out by the timer poller; should its result come after all, it is still applied, and the engine accepts it
 * or records it as late.
 */
export class TaskWorker {
  private readonly concurrency: number;
  private readonly leaseGraceMs: number;
  private readonly batchPatienceMs: number;
  private readonly maxGroup: number;
  private readonly otherReplicasPollMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Connector calls not yet answered: a slot frees as its answer comes, before the rest of its run settles, so
   * the group applying that answer may claim the next step into it.
   */
  private calling = 0;
  /** Answers not yet applied, in the order they came. */
  private readonly answered: Answered[] = [];
  private readonly failures: unknown[] = [];
  /** Ends the wait of a tick that has nothing to do: an answer came, a group committed, or `nudge`. */
  private wake: (() => void) | undefined;
  /** Shutting down: results are still applied, nothing more is claimed. */
  private draining = false;
  /** Attempts may be queued that no claim has seen yet (a nudge came, or the last claim filled every slot). */
  private claimWanted = true;
  private lastClaimAtMs = 0;
  /** Group transactions running. */
  private readonly groups = new Set<Promise<void>>();
  /** Slots promised to the claims of groups that have not committed yet. */
  private reservedSlots = 0;

  constructor(private readonly options: TaskWorkerOptions) {
    this.concurrency = options.concurrency ?? 16;
    this.leaseGraceMs = options.leaseGraceMs ?? 5_000;
    this.batchPatienceMs = options.batchPatienceMs ?? 1_000;
    this.maxGroup = options.maxGroup ?? 256;
    this.otherReplicasPollMs = options.otherReplicasPollMs ?? defaultOtherReplicasPollMs;
  }

  /**
   * This process queued attempts (a transaction that queued them committed): a waiting tick claims them now,
   * and other replicas are woken when this one has no slot for them.
   */
  nudge(): void {
    this.attemptsQueued();
    this.wake?.();
  }

  /** Another replica queued attempts it cannot take: a waiting tick claims them now. */
  otherReplicaQueued(): void {
    this.claimWanted = true;
    this.wake?.();
  }

  /**
   * Starts applying the answers that came, in a group transaction that also claims attempts for the free
   * slots (up to two groups at once, so answers that come while one commits need not wait for it); with
   * none to apply and no group running, claims on its own when attempts may be waiting (a nudge, a full
   * claim, or the poll for other replicas' attempts is due). With work in flight it then waits up to the
   * batch patience for something to happen (an answer, a group committed, a nudge). True while more may be
   * waiting or anything is in flight. Throws what failed to apply.
   */
  async tick(): Promise<boolean> {
    let started = this.startGroups();
    const claimDue = this.claimWanted || Date.now() - this.lastClaimAtMs >= this.otherReplicasPollMs;
    if (started === 0 && this.groups.size === 0 && this.freeSlots() > 0 && claimDue && !this.draining) {
      // Taken before the claim: the budget the connector gets ends no later than the lease the claim sets.
      const claimedAtMs = Date.now();
      // The claim locks task rows only and skips locked ones, so it never waits on an instance's transaction.
      const free = this.freeSlots();
      const tasks = await this.claim(free);
      for (const task of tasks) this.startCall(task, claimedAtMs);
      // Counted once the calls hold their slots: whether any is left for what the full claim left queued.
      if (tasks.length === free) this.attemptsQueued();
    }
    // A wanted claim with free slots comes first (the next tick, at once); otherwise wait for something.
    const claimNext = this.claimWanted && this.freeSlots() > 0 && this.groups.size === 0;
    if ((this.inFlight.size > 0 || this.groups.size > 0) && !claimNext) {
      await this.waitForProgress();
      started += this.startGroups();
    }
    this.reportFailures();
    // While calls or groups are in flight the next tick waits for them itself: a poll interval slept now
    // would delay the answers that come during it (they wake a waiting tick only).
    return (
      started > 0 ||
      this.answered.length > 0 ||
      this.claimWanted ||
      this.groups.size > 0 ||
      this.inFlight.size > 0
    );
  }

  /** Slots neither running a call nor promised to a group's claim that has not committed yet. */
  private freeSlots(): number {
    return this.concurrency - this.calling - this.reservedSlots;
  }

  /** Claims attempts for `free` slots on its own, outside any transaction. */
  private async claim(free: number): Promise<ClaimedTask[]> {
    this.claimStarted();
    const tasks = await this.options.tasks.claim(this.options.transactions.outside, free, this.leaseGraceMs);
    this.claimAnswered(free, tasks.length);
    return tasks;
  }

  private claimStarted(): void {
    this.claimWanted = false;
    this.lastClaimAtMs = Date.now();
  }

  /**
   * A claim that filled every slot it had may have left more queued; one that came back short saw the queue
   * empty, so none is wanted until a nudge (or the poll for other replicas).
   */
  private claimAnswered(free: number, claimed: number): boolean {
    const full = claimed === free;
    if (full) this.claimWanted = true;
    return full;
  }

  /**
   * Attempts may be queued: this worker claims next, and other replicas are woken when it has no slot for
   * them (every slot taken, a claim that came back full, or draining).
   */
  private attemptsQueued(): void {
    this.claimWanted = true;
    if (this.draining || this.freeSlots() <= 0) this.options.wakeOtherReplicas?.();
  }

  /**
   * Shutting down: claims nothing more from now on, and wakes other replicas for what may be queued (and for
   * what this process queues until it is gone).
   */
  stopClaiming(): void {
    this.draining = true;
    if (this.claimWanted) this.options.wakeOtherReplicas?.();
  }

  /**
   * Waits for every call in flight (at shutdown), applies their results without claiming more, then throws
   * what failed to apply.
   */
  async drain(): Promise<void> {
    this.stopClaiming();
    await Promise.all(this.inFlight);
    while (this.answered.length > 0 || this.groups.size > 0) {
      this.startGroups();
      await Promise.all(this.groups);
    }
    this.reportFailures();
  }

  /** Resolves when an answer can be applied, a group committed, a nudge came, or the patience ran out. */
  private waitForProgress(): Promise<void> {
    if (this.answered.length > 0 && this.groups.size < maxGroupsAtOnce) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.batchPatienceMs);
      const wake = () => done();
      this.wake = wake;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.wake = undefined;
    });
  }

  /** Starts group transactions for the answers that came (up to the group size each); returns how many. */
  private startGroups(): number {
    let started = 0;
    while (this.answered.length > 0 && this.groups.size < maxGroupsAtOnce) {
      const group = this.answered.splice(0, this.maxGroup);
      const applying: Promise<void> = this.applyGroup(group).finally(() => {
        this.groups.delete(applying);
        this.wake?.();
      });
      this.groups.add(applying);
      started += group.length;
    }
    return started;
  }

  /** Applies a group in one transaction; should that fail, each answer alone, keeping each one's error. */
  private async applyGroup(group: readonly Answered[]): Promise<void> {
    try {
      await this.apply(group, !this.draining);
    } catch {
      // The group's claim rolled back with it: what it took is queued again.
      this.attemptsQueued();
      // One result the group could not take (an instance whose definition is not resolvable, a deadlock with
      // a transaction locking in another order) must not hold up the rest: each alone, its own error kept.
      for (const answer of group) {
        await this.apply([answer], false).catch((error: unknown) => {
          this.failures.push(error);
        });
      }
    }
  }

  /**
   * Applies results in one transaction; the statement that checkpoints them also marks their attempts done and
   * claims, with `claim`, attempts for the free slots — the next steps those results queue first — so a step
   * costs no claim of its own and no wait for the next poll. The claim comes after the instance locks and
   * skips locked rows, so it never waits; its budget counts from before the transaction began, so it ends no
   * later than the lease.
   */
  private async apply(group: readonly Answered[], claim: boolean): Promise<void> {
    const claimedAtMs = Date.now();
    // Slots this group's claim may fill, held until it commits (another group may claim meanwhile).
    const reserved = claim ? Math.max(0, this.freeSlots()) : 0;
    this.reservedSlots += reserved;
    let leftQueued = false;
    try {
      if (reserved > 0) this.claimStarted();
      const inputs = group.map(({ task, result, traceparent }) => ({
        instanceId: task.instanceId,
        input: resultInput(task, result),
        ...(traceparent ? { traceparent } : {}),
      }));
      const turn = {
        // After a success no other attempt of the run is worth running; a failure's retry was just queued.
        finished: group.map(({ task, result }) => ({ task, succeeded: result.outcome === 'succeeded' })),
        claim: reserved,
        leaseGraceMs: this.leaseGraceMs,
      };
      const { transactions, executor } = this.options;
      // One statement when this process committed every instance's current state; a transaction otherwise.
      const { claimed, attemptsLeftQueued } =
        (await executor.applyAllKept(transactions.outside, inputs, turn)) ??
        (await transactions.run((manager) => executor.applyAll(manager, inputs, turn)));
      const full = reserved > 0 && this.claimAnswered(reserved, claimed.length);
      leftQueued = attemptsLeftQueued || full;
      // Started once committed: before, the claim (and the instances' new state) could still roll back.
      for (const task of claimed) this.startCall(task, claimedAtMs);
    } finally {
      this.reservedSlots -= reserved;
    }
    // A commit would have nudged the worker; a statement outside a transaction has no commit to watch. Once
    // this group's reservation is given back, the free slots say whether this process can take them.
    if (leftQueued) this.attemptsQueued();
  }

  private startCall(task: ClaimedTask, claimedAtMs: number): void {
    const tracked: Promise<void> = this.run(task, claimedAtMs)
      .catch((error: unknown) => {
        this.failures.push(error);
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private reportFailures(): void {
    const failures = this.failures.splice(0);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1)
      throw new AggregateError(failures, `${failures.length} task results failed to apply`);
  }

  /**
   * Calls the connector and applies its result, inside a span continuing the trace the attempt was queued
   * under: what the call reaches (HTTP services, the outbox) and the next attempt it queues carry it on.
   */
  private run(task: ClaimedTask, claimedAtMs: number): Promise<void> {
    const attributes = {
      'keel.workflow': task.workflow,
      'keel.workflow.instance': task.instanceId,
      'keel.workflow.step': task.stepId,
      'keel.workflow.attempt': task.attempt,
    };
    return inTraceOf(
      task.traceparent ?? undefined,
      `workflow ${task.kind} ${task.stepId}`,
      attributes,
      () => this.callAndApply(task, claimedAtMs),
      SpanKind.INTERNAL,
    );
  }

  // Runs synchronously up to the call, inside `startCall`: the slot is taken before anything else can count it.
  private async callAndApply(task: ClaimedTask, claimedAtMs: number): Promise<void> {
    this.calling++;
    let result: ConnectorResult;
    try {
      result = await this.call(task, claimedAtMs);
    } finally {
      this.calling--;
    }
    const traceparent = activeTraceparent();
    this.answered.push({ task, result, ...(traceparent ? { traceparent } : {}) });
    this.wake?.();
  }

  private async call(task: ClaimedTask, claimedAtMs: number): Promise<ConnectorResult> {
    const stopTimer = this.options.metrics?.stepDuration.startTimer({
      template: task.workflow,
      kind: task.kind,
    });
    const stopHeartbeat = this.heartbeat(task);
    let result: ConnectorResult;
    try {
      result = await this.options.connectors.execute(task.call, {
        idempotencyKey: task.idempotencyKey,
        timeoutMs: Math.max(1, claimedAtMs + task.timeoutMs - Date.now()),
        workflow: task.workflow,
        caseId: task.caseId,
        tenant: task.tenant,
        correlationId: task.correlationId,
      });
    } finally {
      stopHeartbeat();
      stopTimer?.();
    }
    return result;
  }

  /** Renews the lease of an attempt with a heartbeat timeout while its call is alive; returns the stop. */
  private heartbeat(task: ClaimedTask): () => void {
    const heartbeatMs = task.heartbeatTimeoutMs;
    if (heartbeatMs === null) return () => undefined;
    const beat = setInterval(
      () => {
        // Never past start-to-close: the lease then runs out and the attempt times out, alive or not.
        this.options.tasks
          .heartbeat(this.options.transactions.outside, task.id, this.leaseGraceMs)
          .catch(() => undefined); // A missed beat is made up by the next; the lease grace absorbs one.
      },
      Math.max(10, Math.floor(heartbeatMs / 3)),
    );
    return () => clearInterval(beat);
  }
}

function resultInput(task: ClaimedTask, result: ConnectorResult): WorkflowInput {
  const attempt = { stepId: task.stepId, run: task.run, attempt: task.attempt };
  switch (result.outcome) {
    case 'succeeded':
      return task.kind === 'task'
        ? { type: 'task.succeeded', ...attempt, output: result.output }
        : { type: 'compensation.succeeded', ...attempt };
    case 'failed':
      return {
        type: task.kind === 'task' ? 'task.failed' : 'compensation.failed',
        ...attempt,
        error: result.error,
        retryable: result.retryable,
      };
    case 'timedOut':
      return task.kind === 'task'
        ? { type: 'task.timedOut', ...attempt, timeout: 'startToClose' }
        : { type: 'compensation.failed', ...attempt, error: 'startToClose timeout', retryable: true };
  }
}
