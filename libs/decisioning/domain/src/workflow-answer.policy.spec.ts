import fc from 'fast-check';
import { workflowAnswerOf } from './workflow-answer.policy';

const answered = {
  answers: { instanceId: 'wf-1', stepId: 'classify', run: 2 },
  mode: 'production' as const,
  requiresApproval: false,
  action: { tool: 'answer' as const, arguments: { option: 'reship' } },
  rationale: 'Damaged: reship.',
};

describe('workflowAnswerOf', () => {
  it('turns a production answer that needs nobody into the step, run and decision to signal', () => {
    expect(workflowAnswerOf(answered)).toEqual({
      instanceId: 'wf-1',
      stepId: 'classify',
      run: 2,
      decision: 'reship',
      rationale: 'Damaged: reship.',
    });
  });

  it('answers exactly for production answer records that need no approval', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('production', 'shadow' as const),
        fc.boolean(),
        fc.constantFrom('answer', 'escalate', 'start_workflow' as const),
        fc.boolean(),
        (mode, requiresApproval, tool, linked) => {
          const record = {
            ...answered,
            mode,
            requiresApproval,
            action: { tool, arguments: { option: 'reship' } },
            answers: linked ? answered.answers : undefined,
          };
          expect(workflowAnswerOf(record) !== undefined).toBe(
            linked && mode === 'production' && !requiresApproval && tool === 'answer',
          );
        },
      ),
    );
  });
});
