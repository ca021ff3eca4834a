import { type DecisionOutcome } from './replay-gate';

/** One production decision as drift sees it. */
export interface DecisionSample {
  readonly tool: string;
  readonly confidence: number;
  /** Known when a person answered the decision's approval: confirmed (granted) or overridden (rejected). */
  readonly outcome?: DecisionOutcome;
}

export interface DriftThresholds {
  /** Largest allowed total variation distance between the two windows' tool mixes. */
  readonly maxMixShift: number;
  readonly maxConfidenceDrop: number;
  readonly maxOverrideRateRise: number;
  /** Either window with fewer decisions than this is too small to judge: nothing is evaluated. */
  readonly minDecisions: number;
  /** The override rate is compared only when both windows hold at least this many known outcomes. */
  readonly minOutcomes: number;
}

/** What a window of decisions looks like. */
export interface WindowProfile {
  readonly decisions: number;
  /** Share of the window's decisions per action tool. */
  readonly mix: Readonly<Record<string, number>>;
  readonly meanConfidence: number | null;
  readonly withOutcome: number;
  /** Overridden / known outcomes. */
  readonly overrideRate: number | null;
}

export type DriftSignal = 'decision-mix' | 'confidence' | 'override-rate';

export const driftSignals: readonly DriftSignal[] = ['decision-mix', 'confidence', 'override-rate'];

export interface DriftBreach {
  readonly signal: DriftSignal;
  readonly value: number;
  readonly limit: number;
}

export interface DriftReport {
  readonly baseline: WindowProfile;
  readonly current: WindowProfile;
  /** False when a window was too small; then no signal is judged and nothing breaches. */
  readonly evaluated: boolean;
  readonly reason?: string;
  /** Each signal's value (null when it could not be measured). */
  readonly signals: Readonly<Record<DriftSignal, number | null>>;
  readonly breaches: readonly DriftBreach[];
}

export function profileWindow(samples: readonly DecisionSample[]): WindowProfile {
  const counts: Record<string, number> = {};
  let confidence = 0;
  let withOutcome = 0;
  let overridden = 0;
  for (const sample of samples) {
    counts[sample.tool] = (counts[sample.tool] ?? 0) + 1;
    confidence += sample.confidence;
    if (sample.outcome !== undefined) {
      withOutcome += 1;
      if (sample.outcome === 'overridden') overridden += 1;
    }
  }
  const decisions = samples.length;
  const mix: Record<string, number> = {};
  for (const tool of Object.keys(counts).sort()) mix[tool] = (counts[tool] ?? 0) / decisions;
  return {
    decisions,
    mix,
    meanConfidence: decisions === 0 ? null : confidence / decisions,
    withOutcome,
    overrideRate: withOutcome === 0 ? null : overridden / withOutcome,
  };
}

/** Half the L1 distance between two mixes: the share of decisions that would have to change tool. */
export function mixShift(left: WindowProfile['mix'], right: WindowProfile['mix']): number {
  let distance = 0;
  for (const tool of new Set([...Object.keys(left), ...Object.keys(right)])) {
    distance += Math.abs((left[tool] ?? 0) - (right[tool] ?? 0));
  }
  // Rounding keeps a shift of exactly the limit from breaching through float noise (0.30000000000000004).
  return Math.min(1, round(distance / 2));
}

/**
 * Compares a version's recent decisions with a baseline window: a shift in the action mix, a fall in mean
 * confidence and a rise in the human-override rate, each against its limit. A signal breaches only when it
 * is strictly above its limit.
 */
export function evaluateDrift(
  baselineSamples: readonly DecisionSample[],
  currentSamples: readonly DecisionSample[],
  thresholds: DriftThresholds,
): DriftReport {
  const baseline = profileWindow(baselineSamples);
  const current = profileWindow(currentSamples);
  const unmeasured = { 'decision-mix': null, confidence: null, 'override-rate': null };
  if (baseline.decisions < thresholds.minDecisions || current.decisions < thresholds.minDecisions) {
    return {
      baseline,
      current,
      evaluated: false,
      reason: `windows of ${baseline.decisions} (baseline) and ${current.decisions} (current) decisions; at least ${thresholds.minDecisions} each are needed`,
      signals: unmeasured,
      breaches: [],
    };
  }
  const confidenceDrop =
    baseline.meanConfidence === null || current.meanConfidence === null
      ? null
      : round(baseline.meanConfidence - current.meanConfidence);
  const overrideRise =
    baseline.overrideRate === null ||
    current.overrideRate === null ||
    baseline.withOutcome < thresholds.minOutcomes ||
    current.withOutcome < thresholds.minOutcomes
      ? null
      : round(current.overrideRate - baseline.overrideRate);
  const signals: Record<DriftSignal, number | null> = {
    'decision-mix': mixShift(baseline.mix, current.mix),
    confidence: confidenceDrop,
    'override-rate': overrideRise,
  };
  const limits: Record<DriftSignal, number> = {
    'decision-mix': thresholds.maxMixShift,
    confidence: thresholds.maxConfidenceDrop,
    'override-rate': thresholds.maxOverrideRateRise,
  };
  const breaches: DriftBreach[] = [];
  for (const signal of driftSignals) {
    const value = signals[signal];
    if (value !== null && value > limits[signal]) breaches.push({ signal, value, limit: limits[signal] });
  }
  return { baseline, current, evaluated: true, signals, breaches };
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
