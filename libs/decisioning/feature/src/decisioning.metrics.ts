import { type DecisionRecord } from '@keel/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Decision metrics; labels are bounded sets: planner, action tool, fallback flag. */
export interface DecisioningMetrics {
  readonly decisions: Counter<'planner' | 'tool' | 'fallback'>;
  readonly duration: Histogram<'planner'>;
  /** Counts records published now (a trigger decided twice counts once). */
  published(records: readonly DecisionRecord[]): void;
}

/** `queueDepth` is read on each scrape, so the gauge is true across restarts and replicas. */
export function createDecisioningMetrics(
  registry: Registry,
  queueDepth?: () => Promise<number>,
): DecisioningMetrics {
  const registers = [registry];
  const decisions = new Counter({
    name: 'keel_decisioning_decisions_total',
    help: 'Decision records published',
    labelNames: ['planner', 'tool', 'fallback'],
    registers,
  });
  const duration = new Histogram({
    name: 'keel_decisioning_decision_duration_seconds',
    help: 'From the agent starting to the record being built',
    labelNames: ['planner'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  if (queueDepth) {
    new Gauge({
      name: 'keel_decisioning_queue_depth',
      help: 'Triggers queued and not yet decided (failed ones excluded)',
      registers,
      async collect() {
        this.set(await queueDepth());
      },
    });
  }
  return {
    decisions,
    duration,
    published(records) {
      for (const record of records) {
        const planner = record.planner ?? 'offline';
        decisions.inc({ planner, tool: record.action.tool, fallback: String(record.fallback) });
        duration.observe({ planner }, record.cost.latencyMs / 1000);
      }
    },
  };
}
