import { DecisioningDomainError } from './decisioning-domain.error';
import { exceptionQuestion, orderCreated } from './testing/triggers.fixture';
import { parseToolCall, toolDefinitions } from './tool-catalogue';

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof DecisioningDomainError) return error.code;
    throw error;
  }
  throw new Error('expected a DecisioningDomainError');
}

describe('tool catalogue', () => {
  it('gives strict JSON schemas: every property required, nothing else allowed', () => {
    for (const definition of toolDefinitions(
      ['search_knowledge', 'start_workflow', 'answer', 'no_op'],
      exceptionQuestion,
    )) {
      const { properties, required, additionalProperties } = definition.parameters as {
        properties: Record<string, unknown>;
        required?: string[];
        additionalProperties: boolean;
      };
      expect(additionalProperties).toBe(false);
      expect([...(required ?? [])].sort()).toEqual(Object.keys(properties).sort());
      expect(definition.parameters).not.toHaveProperty('$schema');
    }
  });

  it("offers a workflow step's options as the only answers", () => {
    const [answer] = toolDefinitions(['answer'], exceptionQuestion);
    expect(answer?.parameters).toMatchObject({
      properties: { option: { enum: ['reship', 'refund', 'manual'] } },
    });
  });

  it('decodes a start_workflow input sent as JSON text', () => {
    expect(
      parseToolCall(
        'start_workflow',
        JSON.stringify({
          template: 'order-routing',
          input: '{"orderId":"o-1"}',
          rationale: 'r',
          confidence: 0.9,
        }),
        ['start_workflow'],
        orderCreated,
      ),
    ).toEqual({
      tool: 'start_workflow',
      arguments: { template: 'order-routing', input: { orderId: 'o-1' } },
      rationale: 'r',
      confidence: 0.9,
    });
  });

  it.each([
    ['an unknown tool', 'delete_all', '{}', 'unknown-tool'],
    ['a tool not offered', 'route', '{"queue":"q","rationale":"r","confidence":1}', 'tool-not-offered'],
    ['arguments that are not JSON', 'escalate', '{"reason":', 'invalid-arguments'],
    [
      'a confidence out of range',
      'escalate',
      '{"reason":"x","rationale":"r","confidence":7}',
      'invalid-arguments',
    ],
    [
      'an extra argument',
      'escalate',
      '{"reason":"x","rationale":"r","confidence":1,"requiresApproval":false}',
      'invalid-arguments',
    ],
    [
      'an option the step does not offer',
      'answer',
      '{"option":"approve","rationale":"r","confidence":1}',
      'invalid-arguments',
    ],
    [
      'a workflow input that is not an object',
      'start_workflow',
      '{"template":"t","input":"[1]","rationale":"r","confidence":1}',
      'invalid-arguments',
    ],
  ])('refuses %s', (_what, name, args, code) => {
    expect(
      codeOf(() => parseToolCall(name, args, ['escalate', 'answer', 'start_workflow'], exceptionQuestion)),
    ).toBe(code);
  });
});
