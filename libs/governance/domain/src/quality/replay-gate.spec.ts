import fc from 'fast-check';
import { canonicalJson } from '../canonical-json';
import { type ActionTaken, judgeReplay, type ReplayCase, sameAction, summariseReplay } from './replay-gate';

const route: ActionTaken = { tool: 'route', arguments: { queue: 'billing' }, requiresApproval: false };
const escalate: ActionTaken = { tool: 'escalate', arguments: { reason: 'unsure' }, requiresApproval: false };

function replayed(
  id: string,
  production: ActionTaken,
  candidate: ActionTaken,
  outcome?: 'confirmed' | 'overridden',
): ReplayCase {
  return {
    kind: 'replayed',
    decisionId: id,
    caseId: `case-${id}`,
    production,
    candidate,
    ...(outcome === undefined ? {} : { outcome }),
  };
}

describe('replay gate figures', () => {
  it('compares actions by tool, canonical arguments and the need for approval', () => {
    expect(sameAction(route, { ...route, arguments: { queue: 'billing' } })).toBe(true);
    expect(
      sameAction(
        { tool: 'start_workflow', arguments: { a: 1, b: { c: 2, d: 3 } }, requiresApproval: false },
        { tool: 'start_workflow', arguments: { b: { d: 3, c: 2 }, a: 1 }, requiresApproval: false },
      ),
    ).toBe(true);
    expect(sameAction(route, { ...route, arguments: { queue: 'tech' } })).toBe(false);
    expect(sameAction(route, { ...route, requiresApproval: true })).toBe(false);
    expect(sameAction(route, escalate)).toBe(false);
  });

  it('counts agreement over everything recorded, a diverged decision as not agreeing', () => {
    const summary = summariseReplay([
      replayed('1', route, route, 'confirmed'),
      replayed('2', route, escalate, 'overridden'),
      replayed('3', route, { ...route, requiresApproval: true }, 'confirmed'),
      {
        kind: 'diverged',
        decisionId: '4',
        caseId: 'case-4',
        production: route,
        reason: 'model request differs',
      },
    ]);
    expect(summary).toMatchObject({
      recorded: 4,
      replayed: 3,
      diverged: 1,
      agreed: 1,
      changed: 2,
      agreement: 0.25,
    });
    expect(summary.transitions).toEqual({ 'route→escalate': 1, 'route→route+approval': 1 });
    expect(summary.divergences).toEqual({ 'model request differs': 1 });
    expect(summary.outcomes).toEqual({
      known: 3,
      changedWhereOverridden: 1,
      changedWhereConfirmed: 1,
      keptWhereOverridden: 0,
      keptWhereConfirmed: 1,
    });
    expect(summary.changes.map((change) => [change.decisionId, change.outcome])).toEqual([
      ['2', 'overridden'],
      ['3', 'confirmed'],
    ]);
  });

  it('lists at most the change limit but counts every change', () => {
    const cases = Array.from({ length: 10 }, (_, index) => replayed(String(index), route, escalate));
    const summary = summariseReplay(cases, 3);
    expect(summary.changes).toHaveLength(3);
    expect(summary.changed).toBe(10);
    expect(summary.transitions).toEqual({ 'route→escalate': 10 });
  });

  it('has no agreement with nothing recorded', () => {
    expect(summariseReplay([]).agreement).toBeNull();
  });
});

describe('replay gate verdict', () => {
  const ninety = Array.from({ length: 10 }, (_, index) =>
    replayed(String(index), route, index === 0 ? escalate : route),
  );

  it('passes at or above the minimum agreement and within the allowed changes', () => {
    expect(
      judgeReplay(summariseReplay(ninety), { minAgreement: 0.9, maxChangedDecisions: 1, minRecorded: 10 }),
    ).toEqual({
      passed: true,
      reasons: [],
    });
  });

  it('names every reason it blocks', () => {
    const verdict = judgeReplay(summariseReplay(ninety), {
      minAgreement: 0.95,
      maxChangedDecisions: 0,
      minRecorded: 20,
    });
    expect(verdict.passed).toBe(false);
    expect(verdict.reasons).toEqual([
      '10 recorded production decisions replayed; at least 20 are needed',
      "agreement 90.0% is below the release's minimum 95.0%",
      '1 decisions would change; the release allows at most 0',
    ]);
  });

  it('blocks an empty replay for want of evidence', () => {
    expect(judgeReplay(summariseReplay([]), { minAgreement: 0, minRecorded: 1 }).passed).toBe(false);
  });
});

describe('action equality (properties)', () => {
  it('agrees with canonical JSON on any two argument objects', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const argumentsOf = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'queue', 'input'), json, { maxKeys: 4 });
    fc.assert(
      fc.property(argumentsOf, argumentsOf, fc.boolean(), (left, right, copy) => {
        const other = copy ? (JSON.parse(JSON.stringify(left)) as typeof left) : right;
        const a = { tool: 'route', arguments: left, requiresApproval: false };
        const b = { tool: 'route', arguments: other, requiresApproval: false };
        expect(sameAction(a, b)).toBe(canonicalJson(left) === canonicalJson(other));
      }),
    );
  });
});
