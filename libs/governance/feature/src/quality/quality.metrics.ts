import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Release-quality metrics. Labels: `tenant` and `version` (an agent@n+guardrails@m pair) grow with tenants and
 * promoted versions, not with traffic; `signal`, `result` and `verdict` are fixed sets.
 */
export interface QualityMetrics {
  readonly replayedDecisions: Counter<'result'>;
  readonly gateVerdicts: Counter<'verdict'>;
  readonly shadowAgreement: Gauge<'tenant' | 'version'>;
  readonly shadowCompared: Gauge<'tenant' | 'version'>;
  readonly driftValue: Gauge<'tenant' | 'version' | 'signal'>;
  readonly driftBreach: Gauge<'tenant' | 'version' | 'signal'>;
  readonly driftRollbacks: Counter<'tenant'>;
}

export function createQualityMetrics(registry: Registry): QualityMetrics {
  const registers = [registry];
  return {
    replayedDecisions: new Counter({
      name: 'keel_governance_replay_decisions_total',
      help: 'Recorded decisions rerun by replay-gate evaluations, by result (agreed, changed, diverged)',
      labelNames: ['result'],
      registers,
    }),
    gateVerdicts: new Counter({
      name: 'keel_governance_replay_gate_verdicts_total',
      help: 'Replay-gate evaluations and overrides, by verdict (passed, blocked, overridden)',
      labelNames: ['verdict'],
      registers,
    }),
    shadowAgreement: new Gauge({
      name: 'keel_governance_shadow_agreement_ratio',
      help: "Share of a shadow version's decisions that match production's on the same trigger",
      labelNames: ['tenant', 'version'],
      registers,
    }),
    shadowCompared: new Gauge({
      name: 'keel_governance_shadow_compared_decisions',
      help: 'Shadow decisions with a production counterpart in the compared window',
      labelNames: ['tenant', 'version'],
      registers,
    }),
    driftValue: new Gauge({
      name: 'keel_governance_drift_value',
      help: 'A drift signal of the production version against the window before its promotion',
      labelNames: ['tenant', 'version', 'signal'],
      registers,
    }),
    driftBreach: new Gauge({
      name: 'keel_governance_drift_breach',
      help: '1 while a drift signal of the production version is above its limit (the alert), else 0',
      labelNames: ['tenant', 'version', 'signal'],
      registers,
    }),
    driftRollbacks: new Counter({
      name: 'keel_governance_drift_rollbacks_total',
      help: 'Releases rolled back by the drift monitor because their release asked for it',
      labelNames: ['tenant'],
      registers,
    }),
  };
}
