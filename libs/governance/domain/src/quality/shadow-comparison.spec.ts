import { type ActionTaken } from './replay-gate';
import { type ComparableDecision, compareShadow } from './shadow-comparison';

const route: ActionTaken = { tool: 'route', arguments: { queue: 'billing' }, requiresApproval: false };
const escalate: ActionTaken = { tool: 'escalate', arguments: { reason: 'unsure' }, requiresApproval: false };

function decision(
  trigger: string,
  mode: 'production' | 'shadow',
  action: ActionTaken,
  version = mode === 'production' ? 'agent@1+guardrails@1' : 'agent@2+guardrails@1',
): ComparableDecision {
  return {
    decisionId: `${mode}-${trigger}-${version}`,
    caseId: `case-${trigger}`,
    trigger,
    mode,
    version,
    action,
  };
}

describe('shadow comparison', () => {
  it('pairs each shadow decision with production on the same trigger and counts agreement per version', () => {
    const comparison = compareShadow([
      decision('e1', 'production', route),
      decision('e1', 'shadow', route),
      decision('e2', 'production', route),
      decision('e2', 'shadow', escalate),
      decision('e3', 'shadow', route),
      decision('e1', 'shadow', escalate, 'agent@3+guardrails@1'),
    ]);
    expect(comparison.versions).toEqual([
      { version: 'agent@2+guardrails@1', compared: 2, agreed: 1, unmatched: 1, agreement: 0.5, releases: [] },
      { version: 'agent@3+guardrails@1', compared: 1, agreed: 0, unmatched: 0, agreement: 0, releases: [] },
    ]);
    expect(comparison.cases.map((item) => [item.trigger, item.version, item.agrees])).toEqual([
      ['e2', 'agent@2+guardrails@1', false],
      ['e1', 'agent@3+guardrails@1', false],
      ['e1', 'agent@2+guardrails@1', true],
    ]);
  });

  it('counts a redelivered decision once', () => {
    const comparison = compareShadow([
      decision('e1', 'production', route),
      decision('e1', 'production', escalate),
      decision('e1', 'shadow', route),
      decision('e1', 'shadow', route),
    ]);
    expect(comparison.versions).toEqual([
      { version: 'agent@2+guardrails@1', compared: 1, agreed: 1, unmatched: 0, agreement: 1, releases: [] },
    ]);
  });

  it('pairs a shadow decision with the production decision it names, whatever its trigger key, and lists its releases', () => {
    const comparison = compareShadow([
      decision('e1', 'production', route),
      {
        ...decision('other-key', 'shadow', escalate),
        counterpart: 'production-e1-agent@1+guardrails@1',
        release: 'r7',
      },
    ]);
    expect(comparison.versions).toEqual([
      {
        version: 'agent@2+guardrails@1',
        compared: 1,
        agreed: 0,
        unmatched: 0,
        agreement: 0,
        releases: ['r7'],
      },
    ]);
    expect(comparison.cases[0]).toMatchObject({ trigger: 'other-key', production: route, shadow: escalate });
  });

  it('has no agreement for a version with nothing to compare yet', () => {
    expect(compareShadow([decision('e9', 'shadow', route)]).versions[0]?.agreement).toBeNull();
  });
});
