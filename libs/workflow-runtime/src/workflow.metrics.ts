import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { InstanceRepository, Transactions } from './persistence/workflow-repositories';

/** Workflow metrics; `template` is a workflow name (a bounded set: only registered definitions). */
export interface WorkflowMetrics {
  readonly started: Counter<'template'>;
  /** Starts that ran nothing: `already-started` (a redelivery), `pruned` (a replay of a pruned instance). */
  readonly startsIgnored: Counter<'template' | 'reason'>;
  readonly finished: Counter<'template' | 'status'>;
  readonly active: Gauge<'template'>;
  readonly stepDuration: Histogram<'template' | 'kind'>;
  readonly retries: Counter<'template'>;
  readonly compensations: Counter<'template'>;
  readonly approvalsWaiting: Gauge;
}

/**
 * Counters count in this process; the gauges are read from the database on each scrape, so they stay true
 * across restarts and with several service instances.
 */
export function createWorkflowMetrics(
  registry: Registry,
  transactions: Transactions,
  instances: InstanceRepository,
): WorkflowMetrics {
  const registers = [registry];
  return {
    started: new Counter({
      name: 'keel_workflow_instances_started_total',
      help: 'Instances started',
      labelNames: ['template'],
      registers,
    }),
    startsIgnored: new Counter({
      name: 'keel_workflow_starts_ignored_total',
      help: 'Starts of instances that exist or existed, which run nothing',
      labelNames: ['template', 'reason'],
      registers,
    }),
    finished: new Counter({
      name: 'keel_workflow_instances_finished_total',
      help: 'Instances that reached a terminal status',
      labelNames: ['template', 'status'],
      registers,
    }),
    active: new Gauge({
      name: 'keel_workflow_instances_active',
      help: 'Instances not yet terminal',
      labelNames: ['template'],
      registers,
      async collect() {
        const rows = await instances.countActive(transactions.outside);
        this.reset();
        for (const row of rows) this.set({ template: row.template }, row.count);
      },
    }),
    stepDuration: new Histogram({
      name: 'keel_workflow_step_duration_seconds',
      help: 'Connector call duration of task and compensation steps',
      labelNames: ['template', 'kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    retries: new Counter({
      name: 'keel_workflow_step_retries_total',
      help: 'Task retries scheduled',
      labelNames: ['template'],
      registers,
    }),
    compensations: new Counter({
      name: 'keel_workflow_compensations_total',
      help: 'Compensations issued',
      labelNames: ['template'],
      registers,
    }),
    approvalsWaiting: new Gauge({
      name: 'keel_workflow_approvals_waiting',
      help: 'Approval steps waiting for a human',
      registers,
      async collect() {
        this.set(await instances.countWaitingApprovals(transactions.outside));
      },
    }),
  };
}
