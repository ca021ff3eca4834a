import type { RenderedConnectorCall, WorkflowInput } from '@keel/workflow-engine';
import type { DataSource } from 'typeorm';
import type { ConnectorRegistry } from '../connectors/connector.registry';
import type { ConnectorResult } from '../connectors/connector';
import type { WorkflowMetrics } from '../workflow.metrics';
import type { WorkflowExecutor } from './workflow-executor';

interface ClaimedTask {
  id: string;
  instance_id: string;
  kind: 'task' | 'compensation';
  step_id: string;
  run: number;
  attempt: number;
  idempotency_key: string;
  call: RenderedConnectorCall;
  timeout_ms: number;
  workflow_name: string;
  case_id: string;
  tenant: string;
  correlation_id: string;
}

export interface TaskWorkerOptions {
  readonly dataSource: DataSource;
  readonly connectors: ConnectorRegistry;
  readonly executor: WorkflowExecutor;
  /** Tasks run at once by this process. */
  readonly concurrency?: number;
  /** Added to a task's timeout to form its lease: a crashed worker's task is re-issued after it. */
  readonly leaseGraceMs?: number;
  readonly metrics?: WorkflowMetrics;
}

/**
 * Carries out queued task and compensation attempts. A task is claimed with a lease (committed), its
 * connector is called with the attempt's idempotency key, and the result is applied to the instance in
 * the same transaction that marks the task done. A worker that dies mid-call loses only its lease: the task
 * is claimed again after it expires and re-issued with the same key, so the far side applies it once.
 */
export class TaskWorker {
  private readonly concurrency: number;
  private readonly leaseGraceMs: number;

  constructor(private readonly options: TaskWorkerOptions) {
    this.concurrency = options.concurrency ?? 16;
    this.leaseGraceMs = options.leaseGraceMs ?? 5_000;
  }

  /** Claims and runs one batch; true when the batch was full (more may be waiting). */
  async tick(): Promise<boolean> {
    const claimed = await this.claim();
    await Promise.all(claimed.map((task) => this.run(task)));
    return claimed.length === this.concurrency;
  }

  // TypeORM answers UPDATE … RETURNING with [rows, count]; a CTE makes it a SELECT, answered with rows.
  private claim(): Promise<ClaimedTask[]> {
    return this.options.dataSource.query<ClaimedTask[]>(
      `WITH claimed AS (
         UPDATE "workflow"."tasks"
         SET lease_until = now() + ((timeout_ms + $2) * interval '1 millisecond')
         WHERE id IN (
           SELECT id FROM "workflow"."tasks"
           WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now())
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, instance_id, kind, step_id, run, attempt, idempotency_key, call, timeout_ms)
       SELECT c.*, i.workflow_name, i.case_id, i.tenant, i.correlation_id
       FROM claimed c JOIN "workflow"."instances" i ON i.id = c.instance_id`,
      [this.concurrency, this.leaseGraceMs],
    );
  }

  private async run(task: ClaimedTask): Promise<void> {
    const stopTimer = this.options.metrics?.stepDuration.startTimer({
      template: task.workflow_name,
      kind: task.kind,
    });
    const result = await this.options.connectors.execute(task.call, {
      idempotencyKey: task.idempotency_key,
      timeoutMs: task.timeout_ms,
      workflow: task.workflow_name,
      caseId: task.case_id,
      tenant: task.tenant,
      correlationId: task.correlation_id,
    });
    stopTimer?.();
    await this.options.dataSource.transaction(async (manager) => {
      const [, finished] = await manager.query<[unknown[], number]>(
        `UPDATE "workflow"."tasks" SET status = 'done', finished_at = now() WHERE id = $1 AND status = 'pending'`,
        [task.id],
      );
      // Another worker finished it after this one's lease ran out: its result already counts.
      if (finished === 0) return;
      await this.options.executor.apply(manager, task.instance_id, resultInput(task, result));
    });
  }
}

function resultInput(task: ClaimedTask, result: ConnectorResult): WorkflowInput {
  const attempt = { stepId: task.step_id, run: task.run, attempt: task.attempt };
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
        ? { type: 'task.timedOut', ...attempt }
        : {
            type: 'compensation.failed',
            ...attempt,
            error: `timed out after ${task.timeout_ms} ms`,
            retryable: true,
          };
  }
}
