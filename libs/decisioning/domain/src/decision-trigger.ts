import type { CaseEvent } from '@keel/contracts';

export type JsonObject = Record<string, unknown>;

/** A normalized case event from `keel.cases.events.v1`, with the CloudEvents id it arrived under. */
export interface CaseEventTrigger {
  readonly kind: 'case-event';
  readonly eventId: string;
  /** The tenant of the event's envelope: set by the platform, never by case data. */
  readonly tenant: string;
  readonly caseId: string;
  readonly caseType: CaseEvent['caseType'];
  readonly eventType: string;
  readonly occurredAt: string;
  readonly attributes: JsonObject;
}

/** A workflow decision step waiting for the agent (`agent.decisionRequested` on `keel.workflow.events.v1`). */
export interface WorkflowDecisionTrigger {
  readonly kind: 'workflow-decision';
  readonly eventId: string;
  readonly tenant: string;
  /** The case the instance works on (`caseId` in its input), or the instance id when it has none. */
  readonly caseId: string;
  readonly instanceId: string;
  readonly template: string;
  readonly stepId: string;
  readonly run: number;
  readonly question: string;
  /** The answers the step accepts; null when the definition leaves it open. */
  readonly options: readonly string[] | null;
  readonly context: JsonObject;
}

/** What the agent is asked to decide on. */
export type DecisionTrigger = CaseEventTrigger | WorkflowDecisionTrigger;

/** The event type the guardrail policy keys tools by: a workflow question has one of its own. */
export const workflowDecisionEventType = 'workflow.decisionRequested';

export function eventTypeOf(trigger: DecisionTrigger): string {
  return trigger.kind === 'case-event' ? trigger.eventType : workflowDecisionEventType;
}

/** The data a trigger carries about its subject: event attributes, or the workflow's decision context. */
export function subjectOf(trigger: DecisionTrigger): JsonObject {
  return trigger.kind === 'case-event' ? trigger.attributes : trigger.context;
}
