import { SpanKind, inTraceOf } from '@keel/tracing';
import type { WorkflowInput } from '@keel/workflow-engine';
import type { ConnectorRegistry } from '../connectors/connector.registry';
import type { ConnectorResult } from '../connectors/connector';
import type { ClaimedTask, TaskRepository, Transactions } from '../persistence/workflow-repositories';
import type { WorkflowMetrics } from '../workflow.metrics';
import type { WorkflowExecutor } from './workflow-executor';

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
   * How long a tick waits for the calls it started. Short calls are awaited as a batch (one claim per batch);
   * a call that outlasts this keeps its slot and the next tick fills the free ones, so a long task does not
   * hold up the rest.
   */
  readonly batchPatienceMs?: number;
  readonly metrics?: WorkflowMetrics;
}

/**
 * Carries out queued task and compensation attempts (ADR 0005). Claiming an attempt marks it `running` with a
 * lease (committed); its connector is called with the attempt's idempotency key and what is left of its
 * start-to-close, counted from the claim; a worker heartbeats the lease of an attempt that has a heartbeat
 * timeout. The result is then applied to the instance (its row locked first) in the transaction that marks
 * the attempt done. An attempt whose lease runs out is timed out by the timer poller; should its result come
 * after all, it is still applied, and the engine accepts it or records it as late.
 */
export class TaskWorker {
  private readonly concurrency: number;
  private readonly leaseGraceMs: number;
  private readonly batchPatienceMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failures: unknown[] = [];

  constructor(private readonly options: TaskWorkerOptions) {
    this.concurrency = options.concurrency ?? 16;
    this.leaseGraceMs = options.leaseGraceMs ?? 5_000;
    this.batchPatienceMs = options.batchPatienceMs ?? 1_000;
  }

  /**
   * Claims attempts for the free slots and runs them, waiting for them up to the batch patience; true when
   * more may be waiting. Throws what failed to apply since the last tick.
   */
  async tick(): Promise<boolean> {
    const free = this.concurrency - this.inFlight.size;
    if (free === 0) {
      await waitAtMost(Promise.race(this.inFlight), this.batchPatienceMs);
      this.reportFailures();
      return this.inFlight.size < this.concurrency;
    }
    // Taken before the claim: the budget the connector gets ends no later than the lease the claim sets.
    const claimedAtMs = Date.now();
    // The claim locks task rows only and skips locked ones, so it never waits on an instance's transaction.
    const claimed = await this.options.tasks.claim(
      this.options.transactions.outside,
      free,
      this.leaseGraceMs,
    );
    const runs = claimed.map((task) => this.track(this.run(task, claimedAtMs)));
    if (runs.length > 0) await waitAtMost(Promise.all(runs), this.batchPatienceMs);
    this.reportFailures();
    return claimed.length === free;
  }

  /** Waits for every call in flight (at shutdown), then throws what failed to apply. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    this.reportFailures();
  }

  private track(run: Promise<void>): Promise<void> {
    const tracked: Promise<void> = run
      .catch((error: unknown) => {
        this.failures.push(error);
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return tracked;
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

  private async callAndApply(task: ClaimedTask, claimedAtMs: number): Promise<void> {
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
    await this.options.transactions.run(async (manager) => {
      await this.options.executor.apply(manager, task.instanceId, resultInput(task, result));
      // After a success no other attempt of the run is worth running; a failure's retry was just queued.
      await this.options.tasks.finish(manager, task, result.outcome === 'succeeded');
    });
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

/** Resolves when `work` settles or after `ms`, whichever comes first. */
async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
