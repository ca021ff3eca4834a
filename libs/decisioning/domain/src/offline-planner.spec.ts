import { currentArtifacts } from './artifacts';
import { type DecisionTrigger } from './decision-trigger';
import { toolsOffered } from './guardrail-policy';
import { type Observation } from './observation';
import { offlinePlannerVersion, planOffline } from './offline-planner';
import {
  carrierQuestion,
  exceptionQuestion,
  exceptionRaised,
  injectedChunk,
  orderCreated,
  refundPolicyChunk,
  ticketCreated,
} from './testing/triggers.fixture';
import { type ProposedCall } from './tool-catalogue';

const policy = currentArtifacts.guardrailPolicy;

/** Runs the planner to its action, answering lookups from the given history and chunks. */
function runToAction(
  trigger: DecisionTrigger,
  {
    history = [],
    chunks = [],
  }: { history?: Observation['result'][]; chunks?: (typeof refundPolicyChunk)[] } = {},
): { calls: ProposedCall['tool'][]; action: ProposedCall } {
  const observations: Observation[] = [];
  const calls: ProposedCall['tool'][] = [];
  for (;;) {
    const call = planOffline(trigger, observations, toolsOffered(policy, trigger));
    calls.push(call.tool);
    if (call.tool === 'get_case_history') {
      observations.push({ call, result: history[0] ?? { kind: 'case-history', events: [] } });
    } else if (call.tool === 'search_knowledge') {
      observations.push({ call, result: { kind: 'knowledge', chunks } });
    } else {
      return { calls, action: call };
    }
  }
}

describe('offline planner', () => {
  it('looks up the case history and the knowledge, then starts order routing with the input the template needs', () => {
    const { calls, action } = runToAction(orderCreated, { chunks: [refundPolicyChunk] });
    expect(calls).toEqual(['get_case_history', 'search_knowledge', 'start_workflow']);
    expect(action).toEqual({
      tool: 'start_workflow',
      arguments: {
        template: 'order-routing',
        input: {
          orderId: 'o-1',
          lines: [{ sku: 'SKU-1', quantity: 2 }],
          weightKg: 12,
          region: 'US',
          address: { city: 'Austin', country: 'US' },
        },
      },
      rationale:
        'Offline rule order-routing: the case carries everything the template needs. Knowledge consulted: doc-refunds@3#doc-refunds:3:0.',
      confidence: 0.9,
    });
  });

  it('asks for what an order lacks instead of starting a workflow that would fail', () => {
    const { action } = runToAction({ ...orderCreated, attributes: { orderId: 'o-1', weightKg: 'heavy' } });
    expect(action).toMatchObject({
      tool: 'request_info',
      arguments: { fields: ['lines', 'weightKg', 'region', 'address'] },
    });
  });

  it('starts exception handling, and escalates the third exception on the same order', () => {
    expect(runToAction(exceptionRaised).action).toMatchObject({
      tool: 'start_workflow',
      arguments: { template: 'exception-handling', input: { exceptionId: 'E-1', orderId: 'o-1' } },
    });
    const earlier = (id: string) => ({
      eventId: id,
      eventType: 'exception.raised',
      occurredAt: '2026-11-30T00:00:00.000Z',
      attributes: { orderId: 'o-1' },
    });
    const history = {
      kind: 'case-history' as const,
      events: [earlier('e-a'), earlier('e-b'), { ...earlier(exceptionRaised.eventId) }],
    };
    expect(runToAction(exceptionRaised, { history: [history] }).action).toMatchObject({
      tool: 'escalate',
      arguments: { reason: 'repeated exception: 3 on order o-1' },
    });
  });

  it('routes support tickets: a new one starts support routing, an updated one moves queue, a resolved one needs nothing', () => {
    expect(runToAction(ticketCreated).action).toMatchObject({
      tool: 'start_workflow',
      arguments: {
        template: 'support-routing',
        input: { ticketId: 'T-1', priority: 'high', customerId: 'c-9', skills: ['billing'] },
      },
    });
    expect(runToAction({ ...ticketCreated, eventType: 'ticket.updated' }).action).toMatchObject({
      tool: 'route',
      arguments: { queue: 'priority' },
    });
    expect(runToAction({ ...ticketCreated, eventType: 'ticket.resolved' })).toMatchObject({
      calls: ['get_case_history', 'no_op'],
    });
  });

  it("answers the workflows' questions from the step's options", () => {
    expect(runToAction(carrierQuestion).action).toMatchObject({
      tool: 'answer',
      arguments: { option: 'freight' },
    });
    expect(runToAction(exceptionQuestion).action).toMatchObject({
      tool: 'answer',
      arguments: { option: 'reship' },
    });
    // The exception feed's `kind`: the playbook reships stock-outs and leaves failed payments, late carriers
    // and bad addresses to a person.
    const byKind = (kind: string) =>
      runToAction({
        ...exceptionQuestion,
        context: { exception: { exceptionId: 'X-1', orderId: 'o-1', kind } },
      }).action.arguments;
    expect(['stock-out', 'payment-failed', 'carrier-delay', 'address-invalid'].map(byKind)).toEqual([
      { option: 'reship' },
      { option: 'manual' },
      { option: 'manual' },
      { option: 'manual' },
    ]);
    const resolution = {
      ...carrierQuestion,
      template: 'support-routing',
      stepId: 'checkResolution',
      options: ['resolved', 'unresolved'],
    };
    expect(runToAction(resolution).action).toMatchObject({ arguments: { option: 'unresolved' } });
    const resolvedHistory = {
      kind: 'case-history' as const,
      events: [
        {
          eventId: 'e-r',
          eventType: 'ticket.resolved',
          occurredAt: '2026-12-01T10:00:00.000Z',
          attributes: {},
        },
      ],
    };
    expect(runToAction(resolution, { history: [resolvedHistory] }).action).toMatchObject({
      arguments: { option: 'resolved' },
    });
  });

  it('escalates what it has no rule for, and an answer the step would not accept', () => {
    expect(runToAction({ ...orderCreated, eventType: 'order.teleported' }).action).toMatchObject({
      tool: 'escalate',
    });
    expect(runToAction({ ...carrierQuestion, stepId: 'somethingNew' }).action).toMatchObject({
      tool: 'escalate',
    });
    expect(runToAction({ ...carrierQuestion, options: ['drone'] }).action).toMatchObject({
      tool: 'escalate',
    });
  });

  it('cites an injected knowledge chunk but is not steered by it', () => {
    const clean = runToAction(exceptionQuestion, { chunks: [refundPolicyChunk] }).action;
    const injected = runToAction(exceptionQuestion, { chunks: [injectedChunk, refundPolicyChunk] }).action;
    expect(injected.tool).toBe(clean.tool);
    expect(injected.arguments).toEqual(clean.arguments);
    expect(offlinePlannerVersion).toBe('offline-planner@1');
  });
});
