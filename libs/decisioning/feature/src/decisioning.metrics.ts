import { Counter, Histogram, type Registry } from 'prom-client';

/** Decision metrics; labels are bounded sets: planner, action tool, fallback flag. */
export interface DecisioningMetrics {
  readonly decisions: Counter<'planner' | 'tool' | 'fallback'>;
  readonly duration: Histogram<'planner'>;
}

export function createDecisioningMetrics(registry: Registry): DecisioningMetrics {
  const registers = [registry];
  return {
    decisions: new Counter({
      name: 'keel_decisioning_decisions_total',
      help: 'Decision records published',
      labelNames: ['planner', 'tool', 'fallback'],
      registers,
    }),
    duration: new Histogram({
      name: 'keel_decisioning_decision_duration_seconds',
      help: 'From the agent starting to the record being built',
      labelNames: ['planner'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
