import { type DecisionRecord } from '@keel/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Decision metrics; labels are bounded sets: planner, action tool, fallback flag; shadow policy versions (a few
 * per release cycle).
 */
export interface DecisioningMetrics {
  readonly decisions: Counter<'planner' | 'tool' | 'fallback'>;
  readonly duration: Histogram<'planner'>;
  readonly shadowDecisions: Counter<'version' | 'agreement'>;
  /** Counts records published now (a trigger decided twice counts once); shadow records apart. */
  published(records: readonly DecisionRecord[]): void;
}

/** Read on each scrape: `queueDepth` so the gauge is true across restarts and replicas. */
export interface DecisioningQueueReadings {
  readonly queueDepth: () => Promise<number>;
  /** The queue shards this replica decides now: held, not being given back (how deciding spreads). */
  readonly shardsDecided: () => number;
}

export function createDecisioningMetrics(
  registry: Registry,
  queue?: DecisioningQueueReadings,
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
  if (queue) {
    new Gauge({
      name: 'keel_decisioning_queue_depth',
      help: 'Triggers queued and not yet decided (failed ones excluded)',
      registers,
      async collect() {
        this.set(await queue.queueDepth());
      },
    });
    new Gauge({
      name: 'keel_decisioning_queue_shards',
      help: 'Shards of the decision queue this replica decides now (held and not being given back)',
      registers,
      collect() {
        this.set(queue.shardsDecided());
      },
    });
  }
  const shadowDecisions = new Counter({
    name: 'keel_decisioning_shadow_decisions_total',
    help: "Shadow decisions published, by shadow policy version and whether they agree with production's",
    labelNames: ['version', 'agreement'],
    registers,
  });
  const agreement = new Gauge({
    name: 'keel_decisioning_shadow_agreement_ratio',
    help: "Share of a shadow policy version's decisions agreeing with production's on the same trigger, since start",
    labelNames: ['version'],
    registers,
  });
  const tallies = new Map<string, { agreed: number; compared: number }>();
  return {
    decisions,
    duration,
    shadowDecisions,
    published(records) {
      for (const record of records) {
        if (record.shadow !== undefined) {
          const { agentPolicy, guardrailPolicy } = record.versions;
          // The version label as governance's comparison names it: agent and guardrail policy together.
          const version = `${agentPolicy.name}@${agentPolicy.version}+${guardrailPolicy.name}@${guardrailPolicy.version}`;
          const agrees = record.shadow.agreesWithProduction;
          shadowDecisions.inc({ version, agreement: agrees ? 'agree' : 'disagree' });
          const tally = tallies.get(version) ?? { agreed: 0, compared: 0 };
          tally.compared += 1;
          if (agrees) tally.agreed += 1;
          tallies.set(version, tally);
          agreement.set({ version }, tally.agreed / tally.compared);
          continue;
        }
        const planner = record.planner ?? 'offline';
        decisions.inc({ planner, tool: record.action.tool, fallback: String(record.fallback) });
        duration.observe({ planner }, record.cost.latencyMs / 1000);
      }
    },
  };
}
