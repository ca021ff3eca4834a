import fc from 'fast-check';
import { InvalidWorkflowDecisionError, workflowStartOf } from './workflow-start.policy';

type PolicyInput = Parameters<typeof workflowStartOf>[0];

const decision = (overrides: Partial<PolicyInput> = {}): PolicyInput => ({
  caseId: 'order-42',
  mode: 'production',
  requiresApproval: false,
  action: { tool: 'start_workflow', arguments: { template: 'order-routing', input: { orderId: '42' } } },
  ...overrides,
});

describe('workflowStartOf', () => {
  it('starts the named template for a production decision that needs no person, with the case in the input', () => {
    expect(workflowStartOf(decision())).toEqual({
      acted: true,
      template: 'order-routing',
      input: { orderId: '42', caseId: 'order-42' },
    });
    expect(
      workflowStartOf(
        decision({
          action: { tool: 'start_workflow', arguments: { template: 'order-routing', templateVersion: 3 } },
        }),
      ),
    ).toEqual({ acted: true, template: 'order-routing', templateVersion: 3, input: { caseId: 'order-42' } });
  });

  it('never acts on a shadow decision, approved or not', () => {
    expect(workflowStartOf(decision({ mode: 'shadow' }))).toEqual({ acted: false, reason: 'shadow' });
    expect(workflowStartOf(decision({ mode: 'shadow', requiresApproval: true }), { approved: true })).toEqual(
      {
        acted: false,
        reason: 'shadow',
      },
    );
  });

  it('holds a decision that needs a person until governance says it was approved', () => {
    expect(workflowStartOf(decision({ requiresApproval: true }))).toEqual({
      acted: false,
      reason: 'held-for-approval',
    });
    expect(workflowStartOf(decision({ requiresApproval: true }), { approved: true })).toMatchObject({
      acted: true,
    });
  });

  it('starts nothing for the tools that are not workflows', () => {
    for (const tool of ['route', 'escalate', 'request_info', 'no_op'] as const) {
      expect(workflowStartOf(decision({ action: { tool, arguments: {} } }))).toEqual({
        acted: false,
        reason: 'not-a-workflow',
      });
    }
  });

  it.each([
    [{ input: {} }, 'without a template name'],
    [{ template: '' }, 'without a template name'],
    [{ template: 7 }, 'without a template name'],
    [{ template: 'x', templateVersion: 0 }, 'templateVersion must be a positive integer'],
    [{ template: 'x', templateVersion: '2' }, 'templateVersion must be a positive integer'],
    [{ template: 'x', input: ['a'] }, 'input must be an object'],
    [{ template: 'x', input: null }, 'input must be an object'],
  ])('refuses the arguments %j of a decision it would act on', (args, message) => {
    const bad = decision({
      action: { tool: 'start_workflow', arguments: args },
    });
    expect(() => workflowStartOf(bad)).toThrow(InvalidWorkflowDecisionError);
    expect(() => workflowStartOf(bad)).toThrow(message);
  });

  it('acts exactly on production start_workflow decisions that need no person or were approved', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('production', 'shadow' as const),
        fc.constantFrom('start_workflow', 'route', 'escalate', 'request_info', 'no_op' as const),
        fc.boolean(),
        fc.boolean(),
        (mode, tool, requiresApproval, approved) => {
          const outcome = workflowStartOf(
            decision({ mode, requiresApproval, action: { tool, arguments: { template: 't' } } }),
            { approved },
          );
          expect(outcome.acted).toBe(
            mode === 'production' && tool === 'start_workflow' && (!requiresApproval || approved),
          );
        },
      ),
    );
  });
});
