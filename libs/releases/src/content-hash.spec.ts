import { contentHashOf as governanceHashOf } from '@keel/governance-domain';
import { workflowTemplates } from '@keel/workflow-engine';
import agentPolicy from '../../decisioning/domain/src/policies/agent-policy.v1.json';
import guardrails from '../../decisioning/domain/src/policies/guardrails.v1.json';
import { canonicalJson, contentHashOf } from './content-hash';

describe('contentHashOf', () => {
  it('hashes artifacts exactly as the governance registry does', () => {
    for (const content of [agentPolicy, guardrails, ...workflowTemplates, { b: [1, { d: null, c: 'é' }], a: true }]) {
      expect(contentHashOf(content)).toBe(governanceHashOf(content));
    }
  });

  it('ignores key order and drops undefined members, like JSON.stringify', () => {
    expect(canonicalJson({ b: 1, a: { y: undefined, x: [undefined, 2] } })).toBe('{"a":{"x":[null,2]},"b":1}');
    expect(contentHashOf({ a: 1, b: 2 })).toBe(contentHashOf({ b: 2, a: 1 }));
  });
});
