import { type DecisionSample, evaluateDrift, mixShift, profileWindow } from './drift';

const thresholds = {
  maxMixShift: 0.2,
  maxConfidenceDrop: 0.1,
  maxOverrideRateRise: 0.1,
  minDecisions: 4,
  minOutcomes: 2,
};

function samples(
  tool: string,
  count: number,
  confidence: number,
  outcome?: 'confirmed' | 'overridden',
): DecisionSample[] {
  return Array.from({ length: count }, () => ({
    tool,
    confidence,
    ...(outcome === undefined ? {} : { outcome }),
  }));
}

describe('drift', () => {
  it('profiles a window: mix, mean confidence and override rate over known outcomes', () => {
    const profile = profileWindow([
      ...samples('route', 2, 0.9, 'confirmed'),
      ...samples('escalate', 1, 0.6, 'overridden'),
      ...samples('no_op', 1, 0.5),
    ]);
    expect(profile).toEqual({
      decisions: 4,
      mix: { escalate: 0.25, no_op: 0.25, route: 0.5 },
      meanConfidence: 0.725,
      withOutcome: 3,
      overrideRate: 1 / 3,
    });
  });

  it('measures the mix shift as the share of decisions that changed tool', () => {
    expect(mixShift({ route: 1 }, { escalate: 1 })).toBe(1);
    expect(mixShift({ route: 0.5, escalate: 0.5 }, { route: 0.7, escalate: 0.3 })).toBe(0.2);
  });

  it('breaches on each signal strictly above its limit', () => {
    const baseline = [...samples('route', 8, 0.9, 'confirmed'), ...samples('escalate', 2, 0.8, 'overridden')];
    const current = [...samples('route', 4, 0.7, 'confirmed'), ...samples('escalate', 6, 0.6, 'overridden')];
    const report = evaluateDrift(baseline, current, thresholds);
    expect(report.evaluated).toBe(true);
    expect(report.signals).toEqual({ 'decision-mix': 0.4, confidence: 0.24, 'override-rate': 0.4 });
    expect(report.breaches).toEqual([
      { signal: 'decision-mix', value: 0.4, limit: 0.2 },
      { signal: 'confidence', value: 0.24, limit: 0.1 },
      { signal: 'override-rate', value: 0.4, limit: 0.1 },
    ]);
  });

  it('does not breach at exactly the limit', () => {
    const baseline = [...samples('route', 5, 0.9), ...samples('escalate', 5, 0.9)];
    const current = [...samples('route', 7, 0.8), ...samples('escalate', 3, 0.8)];
    const report = evaluateDrift(baseline, current, thresholds);
    expect(report.signals['decision-mix']).toBe(0.2);
    expect(report.signals.confidence).toBe(0.1);
    expect(report.breaches).toEqual([]);
  });

  it('judges nothing when a window is too small, and leaves the override rate out with too few outcomes', () => {
    const small = evaluateDrift(samples('route', 3, 0.9), samples('escalate', 10, 0.1), thresholds);
    expect(small.evaluated).toBe(false);
    expect(small.breaches).toEqual([]);
    expect(small.reason).toContain('at least 4');
    const fewOutcomes = evaluateDrift(
      [...samples('route', 9, 0.9), ...samples('route', 1, 0.9, 'confirmed')],
      samples('route', 10, 0.9, 'overridden'),
      thresholds,
    );
    expect(fewOutcomes.signals['override-rate']).toBeNull();
    expect(fewOutcomes.breaches).toEqual([]);
  });
});
