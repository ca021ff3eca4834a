import { type DecisionRecord } from '@keel/contracts';
import { DecisionAgent } from '@keel/decisioning-agent';
import {
  type CaseEventTrigger,
  type DecisionArtifacts,
  type GuardrailPolicy,
  currentArtifacts,
  loadAgentPolicy,
  loadGuardrailPolicy,
} from '@keel/decisioning-domain';

/**
 * Recorded decisions and candidate policies for the replay gate's tests and bench: real records from
 * decisioning's agent (offline planner, no lookups answered), so they replay as production's would.
 */
export function orderCreated(index: number, amount: number, tenant = 'acme'): CaseEventTrigger {
  return {
    kind: 'case-event',
    eventId: `evt-order-${index}`,
    tenant,
    caseId: `order-${index}`,
    caseType: 'order',
    eventType: 'order.created',
    occurredAt: '2026-12-01T09:00:00.000Z',
    attributes: {
      orderId: `o-${index}`,
      lines: [{ sku: 'SKU-1', quantity: 1 + (index % 3) }],
      weightKg: 3 + (index % 7),
      region: 'US',
      address: { city: 'Austin', country: 'US' },
      amount,
      customerTier: 'standard',
    },
  };
}

/** A new order that arrives without its address: the planner asks for it instead of starting a workflow. */
export function orderWithoutAddress(index: number, amount: number, tenant = 'acme'): CaseEventTrigger {
  const trigger = orderCreated(index, amount, tenant);
  const { address: _address, ...attributes } = trigger.attributes;
  return { ...trigger, eventId: `evt-order-noaddr-${index}`, caseId: `order-noaddr-${index}`, attributes };
}

/** What decisioning's agent decides on the trigger under `artifacts`, with the offline planner. */
export function decide(trigger: CaseEventTrigger, artifacts: DecisionArtifacts): Promise<DecisionRecord> {
  let tick = 0;
  const agent = new DecisionAgent({
    artifacts,
    knowledge: { search: () => Promise.resolve([]) },
    history: { eventsOf: () => Promise.resolve([]) },
    clock: () => (tick += 1),
  });
  return agent.decide(trigger);
}

/** Guardrails v1 with the large-amount bar at 1,200 instead of 1,000: changes only orders in between. */
export function lenientGuardrails(): GuardrailPolicy {
  const base = currentArtifacts.guardrailPolicy;
  return loadGuardrailPolicy({
    ...base,
    version: 2,
    description: 'Guardrails v1 with large amounts from 1,200.',
    approvalRules: base.approvalRules.map((rule) =>
      rule.id === 'large-amount' ? { ...rule, when: { '>=': [{ var: 'impact.amount' }, 1200] } } : rule,
    ),
  });
}

/** Guardrails v1 without start_workflow for new orders: every order decision changes. */
export function strictGuardrails(): GuardrailPolicy {
  const base = currentArtifacts.guardrailPolicy;
  return loadGuardrailPolicy({
    ...base,
    version: 3,
    description: 'Guardrails v1 that never starts a workflow for a new order.',
    tools: {
      ...base.tools,
      byEventType: {
        ...base.tools.byEventType,
        'order.created': ['get_case_history', 'search_knowledge', 'request_info', 'escalate'],
      },
    },
  });
}

export function withGuardrails(guardrailPolicy: GuardrailPolicy, shadow = false): DecisionArtifacts {
  return {
    ...currentArtifacts,
    guardrailPolicy,
    agentPolicy: shadow
      ? loadAgentPolicy({ ...currentArtifacts.agentPolicy, mode: 'shadow' })
      : currentArtifacts.agentPolicy,
  };
}
