import { type CaseEvent, type CloudEvent, type WorkflowEvent } from '@keel/contracts';
import {
  type CaseEventTrigger,
  type JsonObject,
  type WorkflowDecisionTrigger,
} from '@keel/decisioning-domain';
import { z } from 'zod';
import { DecisioningServiceError } from './decisioning-service.error';

/** The transition by which a workflow decision step asks the agent. */
export const decisionRequestedTransition = 'agent.decisionRequested';

export function caseEventTrigger(event: CloudEvent<CaseEvent>): CaseEventTrigger {
  const { data } = event;
  return {
    kind: 'case-event',
    eventId: event.id,
    tenant: event.tenant,
    caseId: data.caseId,
    caseType: data.caseType,
    eventType: data.eventType,
    occurredAt: data.occurredAt,
    attributes: data.attributes,
  };
}

/** Whether a workflow event asks the agent for a decision: the only workflow events decisioning handles. */
export function isDecisionRequest(event: CloudEvent<WorkflowEvent>): boolean {
  return event.data.transition === decisionRequestedTransition;
}

const requestDetailSchema = z.object({
  run: z.number().int().min(1),
  question: z.string().min(1),
  options: z.array(z.string().min(1)).min(1).nullable(),
  context: z.unknown(),
});

/**
 * The trigger of a workflow decision request, or undefined for every other transition. The case is the event's
 * subject: the workflow keys its events by the case the instance works on.
 *
 * @throws DecisioningServiceError `invalid-request` for a request without step or run.
 */
export function workflowDecisionTrigger(
  event: CloudEvent<WorkflowEvent>,
): WorkflowDecisionTrigger | undefined {
  const { data } = event;
  if (!isDecisionRequest(event)) return undefined;
  const detail = requestDetailSchema.safeParse(data.detail);
  if (!data.stepId || !detail.success) {
    throw new DecisioningServiceError(
      'invalid-request',
      `decision request ${event.id} needs a stepId and detail { run, question, options, context }`,
    );
  }
  const { context } = detail.data;
  return {
    kind: 'workflow-decision',
    eventId: event.id,
    tenant: event.tenant,
    caseId: event.subject,
    instanceId: data.instanceId,
    template: data.template,
    stepId: data.stepId,
    run: detail.data.run,
    question: detail.data.question,
    options: detail.data.options,
    context:
      typeof context === 'object' && context !== null && !Array.isArray(context)
        ? (context as JsonObject)
        : { value: context },
  };
}
