import { GovernanceError } from './governance.error';
import { type JsonValue } from './canonical-json';

/** What waits for a person: a workflow's approval step, or a decision the guardrails held for a human. */
export type ApprovalKind = 'workflow-step' | 'guardrail-hold';

export type ApprovalStatus = 'pending' | 'granted' | 'rejected' | 'withdrawn';

/** One entry of the approvals inbox. */
export interface ApprovalItem {
  readonly tenant: string;
  /** A workflow step's `approvalId` (`<instance>/<step>/<run>`), or `hold:<decisionId>`. */
  readonly id: string;
  readonly kind: ApprovalKind;
  readonly caseId: string;
  readonly status: ApprovalStatus;
  readonly title: string;
  /** The queue it is routed to: the step's approver role (the escalation role once escalated); `approver` for holds. */
  readonly approverRole: string;
  readonly dueAt?: string;
  readonly escalated: boolean;
  readonly escalatedAt?: string;
  readonly instanceId?: string;
  readonly stepId?: string;
  readonly run?: number;
  readonly decisionId?: string;
  readonly requestedAt: string;
  /** The people who asked for it (four-eyes): none of them may answer it. */
  readonly requestedBy: readonly string[];
  /** What the approver needs to judge: the step's title and due time, or the held decision's action and why. */
  readonly context: JsonValue;
  readonly decidedBy?: string;
  readonly reason?: string;
  readonly decidedAt?: string;
}

/** An approver's answer. */
export interface InboxAnswer {
  readonly approve: boolean;
  readonly reason: string;
}

/** Who answers, as the access lib resolved them. */
export interface Answerer {
  readonly subject: string;
  readonly tenant: string;
}

/**
 * The item as answered, or why it may not be: it must still be pending, and the caller must not be one of the
 * people who asked for it — the requester or the case's author. (Who may answer at all is the access role
 * `approver`; the item's `approverRole` is the business queue it is routed to, which tokens do not carry.)
 */
export function answerApproval(
  item: ApprovalItem,
  by: Answerer,
  answer: InboxAnswer,
  at: string,
): ApprovalItem {
  if (item.tenant !== by.tenant) throw new GovernanceError('not-found', `no approval '${item.id}'`);
  if (item.status !== 'pending')
    throw new GovernanceError('not-pending', `approval '${item.id}' is ${item.status}, not pending`);
  if (item.requestedBy.includes(by.subject))
    throw new GovernanceError(
      'four-eyes',
      `${by.subject} asked for approval '${item.id}' and may not answer it`,
    );
  return {
    ...item,
    status: answer.approve ? 'granted' : 'rejected',
    decidedBy: by.subject,
    reason: answer.reason,
    decidedAt: at,
  };
}

/**
 * The item after a repeated request for the same approval: a request with another role or deadline for a
 * pending item is its escalation (the workflow asks again of `escalateTo` when the step times out); an
 * identical one (a redelivery) changes nothing, and nothing reopens an answered item.
 */
export function requestedAgain(
  item: ApprovalItem,
  request: { readonly approverRole: string; readonly dueAt?: string },
  at: string,
): ApprovalItem {
  if (item.status !== 'pending') return item;
  if (item.approverRole === request.approverRole && item.dueAt === request.dueAt) return item;
  return {
    ...item,
    approverRole: request.approverRole,
    ...(request.dueAt === undefined ? {} : { dueAt: request.dueAt }),
    escalated: true,
    escalatedAt: at,
  };
}

/**
 * The people a case names as who raised it, by the conventional attribute names a source maps them to; an
 * approver must not be one of them.
 */
export function casePartiesOf(attributes: Readonly<Record<string, unknown>>): string[] {
  const parties = new Set<string>();
  for (const field of partyFields) {
    const value = attributes[field];
    if (typeof value === 'string' && value.length > 0 && value.length <= 200) parties.add(value);
  }
  return [...parties];
}

/** Attribute names that identify a person who raised or asked for something on a case. */
export const partyFields = ['author', 'requestedBy', 'submittedBy', 'createdBy'] as const;
