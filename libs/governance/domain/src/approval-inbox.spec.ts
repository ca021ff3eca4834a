import { type ApprovalItem, answerApproval, casePartiesOf, requestedAgain } from './approval-inbox';
import { GovernanceError } from './governance.error';

const item: ApprovalItem = {
  tenant: 'acme',
  id: 'inst-1/approve/1',
  kind: 'workflow-step',
  caseId: 'case-1',
  status: 'pending',
  title: 'Refund 900 EUR',
  approverRole: 'ops-lead',
  dueAt: '2026-12-01T13:00:00.000Z',
  escalated: false,
  instanceId: 'inst-1',
  stepId: 'approve',
  run: 1,
  requestedAt: '2026-12-01T12:00:00.000Z',
  requestedBy: ['alice'],
  context: {},
};
const at = '2026-12-01T12:30:00.000Z';
const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof GovernanceError ? error.code : 'other';
  }
};

describe('approvals inbox', () => {
  it('records the answer, who gave it and why', () => {
    expect(
      answerApproval(item, { subject: 'bob', tenant: 'acme' }, { approve: true, reason: 'ok' }, at),
    ).toEqual({
      ...item,
      status: 'granted',
      decidedBy: 'bob',
      reason: 'ok',
      decidedAt: at,
    });
    expect(
      answerApproval(item, { subject: 'bob', tenant: 'acme' }, { approve: false, reason: 'no' }, at).status,
    ).toBe('rejected');
  });

  it("refuses the requester (four-eyes), an answered item and another tenant's caller", () => {
    expect(
      codeOf(() =>
        answerApproval(item, { subject: 'alice', tenant: 'acme' }, { approve: true, reason: 'mine' }, at),
      ),
    ).toBe('four-eyes');
    const answered = { ...item, status: 'granted' as const };
    expect(
      codeOf(() =>
        answerApproval(answered, { subject: 'bob', tenant: 'acme' }, { approve: true, reason: 'x' }, at),
      ),
    ).toBe('not-pending');
    expect(
      codeOf(() =>
        answerApproval(item, { subject: 'bob', tenant: 'globex' }, { approve: true, reason: 'x' }, at),
      ),
    ).toBe('not-found');
  });

  it('takes a request with a new role or deadline as the escalation, a redelivery as nothing', () => {
    expect(requestedAgain(item, { approverRole: 'ops-lead', dueAt: item.dueAt }, at)).toBe(item);
    expect(
      requestedAgain(item, { approverRole: 'ops-manager', dueAt: '2026-12-01T14:00:00.000Z' }, at),
    ).toEqual({
      ...item,
      approverRole: 'ops-manager',
      dueAt: '2026-12-01T14:00:00.000Z',
      escalated: true,
      escalatedAt: at,
    });
    const answered = { ...item, status: 'rejected' as const };
    expect(requestedAgain(answered, { approverRole: 'ops-manager' }, at)).toBe(answered);
  });

  it("reads a case's parties from the conventional attributes only", () => {
    expect(casePartiesOf({ author: 'alice', requestedBy: 'carol', amount: 3, createdBy: '' })).toEqual([
      'alice',
      'carol',
    ]);
  });
});
