import { outcomesOf } from './decision-outcomes';

describe('decision outcomes', () => {
  it('takes the first answer on the case after the decision, only for decisions that needed approval', () => {
    const outcomes = outcomesOf(
      [
        { position: 10, caseId: 'a', requiresApproval: true },
        { position: 20, caseId: 'a', requiresApproval: true },
        { position: 11, caseId: 'b', requiresApproval: false },
        { position: 12, caseId: 'c', requiresApproval: true },
        { position: 13, caseId: 'd', requiresApproval: true },
      ],
      [
        { position: 25, caseId: 'a', status: 'rejected' },
        { position: 15, caseId: 'a', status: 'granted' },
        { position: 14, caseId: 'b', status: 'rejected' },
        { position: 5, caseId: 'd', status: 'rejected' },
      ],
    );
    expect([...outcomes.entries()].sort(([left], [right]) => left - right)).toEqual([
      [10, 'confirmed'],
      [20, 'overridden'],
    ]);
  });
});
