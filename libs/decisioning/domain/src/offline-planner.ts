import { type DecisionTrigger, type JsonObject, type WorkflowDecisionTrigger } from './decision-trigger';
import {
  type CaseHistoryEntry,
  type KnowledgeChunk,
  type Observation,
  chunksIn,
  historyIn,
} from './observation';
import { type ActionProposal, type ProposedCall, type ToolName } from './tool-catalogue';

/** Names the offline planner in a record's `versions.model` when no model was asked. */
export const offlinePlannerVersion = 'offline-planner@1';

/**
 * The offline planner: the default without a model and the fallback when the model fails. It uses the same
 * tools as the model — case history first, then knowledge, then one action — and decides by fixed rules over
 * the case data, so the same trigger and observations always give the same call. Retrieved text is cited,
 * never obeyed: no rule reads it.
 */
export function planOffline(
  trigger: DecisionTrigger,
  observations: readonly Observation[],
  offered: readonly ToolName[],
): ProposedCall {
  const looked = new Set(observations.map((observation) => observation.call.tool));
  if (offered.includes('get_case_history') && !looked.has('get_case_history')) {
    return { tool: 'get_case_history', arguments: {} };
  }
  if (offered.includes('search_knowledge') && !looked.has('search_knowledge')) {
    return { tool: 'search_knowledge', arguments: { query: queryFor(trigger) } };
  }
  const plan = decide(
    trigger,
    historyIn(observations).filter((event) => event.eventId !== trigger.eventId),
  );
  const proposal = offered.includes(plan.tool)
    ? plan
    : escalation(
        `no offered tool fits: the plan was ${plan.tool}`,
        `Offline plan needed ${plan.tool}, which is not offered here.`,
      );
  return { ...proposal, rationale: withCitations(proposal.rationale, chunksIn(observations)) };
}

function queryFor(trigger: DecisionTrigger): string {
  return trigger.kind === 'case-event'
    ? `${trigger.caseType} ${trigger.eventType.replace(/[._]/g, ' ')}`
    : `${trigger.template.replace(/-/g, ' ')}: ${trigger.question}`.slice(0, 500);
}

function decide(trigger: DecisionTrigger, history: readonly CaseHistoryEntry[]): ActionProposal {
  if (trigger.kind === 'workflow-decision') return answerWorkflow(trigger, history);
  const { attributes } = trigger;
  switch (`${trigger.caseType}/${trigger.eventType}`) {
    // `order.placed` is the order system's name for it (its source schema, data/samples).
    case 'order/order.placed':
    case 'order/order.created':
      return startWorkflow('order-routing', attributes, {
        orderId: 'string',
        lines: 'array',
        weightKg: 'number',
        region: 'string',
        address: 'present',
      });
    case 'exception/exception.raised': {
      const earlier = history.filter(
        (event) => event.eventType === 'exception.raised' && event.attributes.orderId === attributes.orderId,
      );
      if (earlier.length >= 2) {
        return escalation(
          `repeated exception: ${earlier.length + 1} on order ${String(attributes.orderId)}`,
          'Offline rule repeated-exception: the order keeps failing, automatic remediation has not helped.',
        );
      }
      // What went wrong travels with the workflow: its classify step asks the agent, who decides by it.
      return startWorkflow('exception-handling', attributes, { exceptionId: 'string', orderId: 'string' }, [
        'kind',
        'severity',
      ]);
    }
    case 'support/ticket.created':
      return startWorkflow('support-routing', attributes, {
        ticketId: 'string',
        priority: 'string',
        customerId: 'string',
        skills: 'array',
      });
    case 'support/ticket.updated': {
      const queue = attributes.priority === 'high' ? 'priority' : 'standard';
      return {
        tool: 'route',
        arguments: { queue },
        rationale: `Offline rule ticket-priority: a ${attributes.priority === 'high' ? 'high' : 'normal'} priority ticket goes to the ${queue} queue.`,
        confidence: 0.9,
      };
    }
    case 'support/ticket.resolved':
      return {
        tool: 'no_op',
        arguments: {},
        rationale: 'Offline rule resolved-ticket: nothing left to do.',
        confidence: 0.95,
      };
    default:
      return escalation(
        `no offline plan for ${trigger.caseType} event ${trigger.eventType}`,
        'The offline planner has no rule for this event: a person decides.',
      );
  }
}

type FieldKind = 'string' | 'number' | 'array' | 'present';

function startWorkflow(
  template: string,
  attributes: JsonObject,
  fields: Record<string, FieldKind>,
  optional: readonly string[] = [],
): ActionProposal {
  const missing = Object.entries(fields)
    .filter(([field, kind]) => !hasKind(attributes[field], kind))
    .map(([field]) => field);
  if (missing.length > 0) {
    return {
      tool: 'request_info',
      arguments: { fields: missing, message: `To start ${template} the case needs: ${missing.join(', ')}.` },
      rationale: `Offline rule ${template}: the case lacks ${missing.join(', ')}.`,
      confidence: 0.8,
    };
  }
  const input = Object.fromEntries(
    [...Object.keys(fields), ...optional.filter((field) => attributes[field] !== undefined)].map((field) => [
      field,
      attributes[field],
    ]),
  );
  return {
    tool: 'start_workflow',
    arguments: { template, input },
    rationale: `Offline rule ${template}: the case carries everything the template needs.`,
    confidence: 0.9,
  };
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value.length > 0;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value) && value.length > 0;
    case 'present':
      return value !== undefined && value !== null;
  }
}

function answerWorkflow(
  trigger: WorkflowDecisionTrigger,
  history: readonly CaseHistoryEntry[],
): ActionProposal {
  const chosen = chooseOption(trigger, history);
  if (chosen === undefined) {
    return escalation(
      `no offline answer to ${trigger.template}/${trigger.stepId}`,
      'The offline planner has no rule for this question: a person answers it.',
    );
  }
  if (trigger.options !== null && !trigger.options.includes(chosen.option)) {
    return escalation(
      `offline answer '${chosen.option}' is not among the options ${trigger.options.join(', ')}`,
      'The offline rule picked an answer the step does not accept: a person answers it.',
    );
  }
  return {
    tool: 'answer',
    arguments: { option: chosen.option },
    rationale: chosen.rationale,
    confidence: chosen.confidence,
  };
}

function chooseOption(
  trigger: WorkflowDecisionTrigger,
  history: readonly CaseHistoryEntry[],
): { option: string; rationale: string; confidence: number } | undefined {
  switch (`${trigger.template}/${trigger.stepId}`) {
    case 'order-routing/pickCarrier': {
      const weight = objectAt(trigger.context, 'order').weightKg;
      if (typeof weight !== 'number') return undefined;
      const option = weight > 20 ? 'freight' : 'parcel';
      return {
        option,
        rationale: `Offline rule carrier-by-weight: ${weight} kg goes by ${option}.`,
        confidence: 0.85,
      };
    }
    case 'exception-handling/classify': {
      // The exception feed names what went wrong as `kind`; other sources say `reason`.
      const exception = objectAt(trigger.context, 'exception');
      const kind = exception.kind ?? exception.reason;
      const option = typeof kind === 'string' ? (remediationByKind[kind] ?? 'manual') : 'manual';
      return {
        option,
        rationale: `Offline rule remediation-by-kind: '${typeof kind === 'string' ? kind : 'unknown'}' calls for ${option}.`,
        confidence: option === 'manual' ? 0.8 : 0.85,
      };
    }
    case 'support-routing/checkResolution': {
      const resolved = history.some((event) => event.eventType === 'ticket.resolved');
      const option = resolved ? 'resolved' : 'unresolved';
      return {
        option,
        rationale: `Offline rule resolution-from-history: ${resolved ? 'a ticket.resolved event is on record' : 'no ticket.resolved event is on record'}.`,
        confidence: 0.9,
      };
    }
    default:
      return undefined;
  }
}

function objectAt(context: JsonObject, key: string): JsonObject {
  const value = context[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/**
 * The remediation playbook: goods that never arrived whole or are out of stock are reshipped, an overcharge
 * is refunded; anything else (a late carrier, an address to correct, a payment that failed and must be taken
 * again from the customer) is handled by a person.
 */
const remediationByKind: Readonly<Record<string, 'reship' | 'refund'>> = {
  damaged: 'reship',
  lost: 'reship',
  'stock-out': 'reship',
  'price-error': 'refund',
};

function escalation(reason: string, rationale: string): ActionProposal {
  return { tool: 'escalate', arguments: { reason }, rationale, confidence: 0.5 };
}

function withCitations(rationale: string, chunks: readonly KnowledgeChunk[]): string {
  if (chunks.length === 0) return rationale;
  const cited = chunks.slice(0, 3).map((chunk) => `${chunk.documentId}@${chunk.version}#${chunk.chunkId}`);
  return `${rationale} Knowledge consulted: ${cited.join(', ')}.`;
}
