import fc from 'fast-check';
import { type DecisionSample, evaluateDrift, mixShift, profileWindow } from './drift';

const sample: fc.Arbitrary<DecisionSample> = fc.record(
  {
    tool: fc.constantFrom('route', 'escalate', 'start_workflow', 'no_op', 'request_info'),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    outcome: fc.constantFrom('confirmed' as const, 'overridden' as const),
  },
  { requiredKeys: ['tool', 'confidence'] },
);
const window = fc.array(sample, { minLength: 1, maxLength: 60 });
const limits = fc.record({
  maxMixShift: fc.double({ min: 0, max: 1, noNaN: true }),
  maxConfidenceDrop: fc.double({ min: 0, max: 1, noNaN: true }),
  maxOverrideRateRise: fc.double({ min: 0, max: 1, noNaN: true }),
  minDecisions: fc.integer({ min: 1, max: 10 }),
  minOutcomes: fc.integer({ min: 1, max: 10 }),
});

describe('drift (properties)', () => {
  it('mix shift is a distance: within [0, 1], zero on itself, symmetric', () => {
    fc.assert(
      fc.property(window, window, (left, right) => {
        const a = profileWindow(left).mix;
        const b = profileWindow(right).mix;
        const shift = mixShift(a, b);
        expect(shift).toBeGreaterThanOrEqual(0);
        expect(shift).toBeLessThanOrEqual(1);
        expect(mixShift(a, a)).toBe(0);
        expect(mixShift(b, a)).toBe(shift);
      }),
    );
  });

  it('a window never drifts from itself, in any order', () => {
    fc.assert(
      fc.property(window, limits, (samples, thresholds) => {
        const report = evaluateDrift(samples, [...samples].reverse(), thresholds);
        expect(report.breaches).toEqual([]);
      }),
    );
  });

  it('the report does not depend on the order of the samples', () => {
    fc.assert(
      fc.property(window, window, limits, (baseline, current, thresholds) => {
        const forward = evaluateDrift(baseline, current, thresholds);
        const shuffled = evaluateDrift([...baseline].reverse(), [...current].reverse(), thresholds);
        expect(shuffled.breaches.map((breach) => breach.signal)).toEqual(
          forward.breaches.map((breach) => breach.signal),
        );
        expect(shuffled.signals['decision-mix']).toBe(forward.signals['decision-mix']);
      }),
    );
  });

  it('a signal breaches exactly when its value is above its limit, and looser limits never add breaches', () => {
    fc.assert(
      fc.property(window, window, limits, (baseline, current, thresholds) => {
        const report = evaluateDrift(baseline, current, thresholds);
        const limitOf = {
          'decision-mix': thresholds.maxMixShift,
          confidence: thresholds.maxConfidenceDrop,
          'override-rate': thresholds.maxOverrideRateRise,
        };
        for (const [signal, value] of Object.entries(report.signals) as [
          keyof typeof limitOf,
          number | null,
        ][]) {
          const breached = report.breaches.some((breach) => breach.signal === signal);
          expect(breached).toBe(value !== null && value > limitOf[signal]);
        }
        const looser = evaluateDrift(baseline, current, {
          ...thresholds,
          maxMixShift: Math.min(1, thresholds.maxMixShift + 0.1),
          maxConfidenceDrop: Math.min(1, thresholds.maxConfidenceDrop + 0.1),
          maxOverrideRateRise: Math.min(1, thresholds.maxOverrideRateRise + 0.1),
        });
        for (const breach of looser.breaches) {
          expect(report.breaches.map((item) => item.signal)).toContain(breach.signal);
        }
      }),
    );
  });

  it('windows below the minimum are never judged', () => {
    fc.assert(
      fc.property(window, window, limits, (baseline, current, thresholds) => {
        const report = evaluateDrift(baseline, current, thresholds);
        const small = baseline.length < thresholds.minDecisions || current.length < thresholds.minDecisions;
        expect(report.evaluated).toBe(!small);
        if (small) expect(report.breaches).toEqual([]);
      }),
    );
  });
});
