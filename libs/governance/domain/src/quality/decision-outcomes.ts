import { type DecisionOutcome } from './replay-gate';

/** A decision's place in its tenant's audit chain. */
export interface PositionedDecision {
  readonly position: number;
  readonly caseId: string;
  readonly requiresApproval: boolean;
}

/** A person's answer to an approval on a case (`keel.governance.approvals.v1`), with its chain position. */
export interface ApprovalAnswer {
  readonly position: number;
  readonly caseId: string;
  readonly status: 'granted' | 'rejected';
}

/**
 * What people made of decisions that needed their approval: the first answer on the decision's case after the
 * decision — granted confirms it, rejected overrides it. A decision that needed nobody, or is still waiting,
 * has no outcome. Returns outcomes by chain position.
 */
export function outcomesOf(
  decisions: readonly PositionedDecision[],
  answers: readonly ApprovalAnswer[],
): Map<number, DecisionOutcome> {
  const byCase = new Map<string, ApprovalAnswer[]>();
  for (const answer of answers) {
    const list = byCase.get(answer.caseId) ?? [];
    list.push(answer);
    byCase.set(answer.caseId, list);
  }
  for (const list of byCase.values()) list.sort((left, right) => left.position - right.position);
  const outcomes = new Map<number, DecisionOutcome>();
  for (const decision of decisions) {
    if (!decision.requiresApproval) continue;
    const answer = byCase.get(decision.caseId)?.find((candidate) => candidate.position > decision.position);
    if (answer !== undefined) {
      outcomes.set(decision.position, answer.status === 'granted' ? 'confirmed' : 'overridden');
    }
  }
  return outcomes;
}
