import { type DecisionRecord } from '@keel/contracts';

/** The signal that answers a workflow decision step: what the workflow's inbox expects on its commands topic. */
export interface WorkflowAnswer {
  readonly instanceId: string;
  readonly stepId: string;
  readonly run: number;
  readonly decision: string;
  readonly rationale: string;
}

/**
 * Which records answer their workflow step by themselves: production answers that need no person. A shadow
 * record, one held for approval, or an escalation leaves the step waiting for someone else.
 */
export function workflowAnswerOf(
  record: Pick<DecisionRecord, 'answers' | 'mode' | 'requiresApproval' | 'action' | 'rationale'>,
): WorkflowAnswer | undefined {
  if (!record.answers || record.mode !== 'production' || record.requiresApproval) return undefined;
  if (record.action.tool !== 'answer' || typeof record.action.arguments.option !== 'string') return undefined;
  return { ...record.answers, decision: record.action.arguments.option, rationale: record.rationale };
}
