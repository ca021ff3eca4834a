import { type CaseEvent, type CloudEvent, type WorkflowEvent } from '@keel/contracts';
import { caseEventTrigger, isDecisionRequest, workflowDecisionTrigger } from './decision-triggers';
import { DecisioningServiceError } from './decisioning-service.error';

function envelope<T>(data: T, subject: string): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: 'evt-1',
    source: 'urn:keel:workflow',
    type: 'keel.workflow.transition',
    time: '2026-12-01T09:00:00.000Z',
    subject,
    dataschema: 'x@1',
    datacontenttype: 'application/json',
    tenant: 'acme',
    correlationid: subject,
    idempotencykey: 'evt-1',
    data,
  };
}

const request: WorkflowEvent = {
  instanceId: 'wf-1',
  template: 'order-routing',
  templateVersion: 1,
  sequence: 4,
  transition: 'agent.decisionRequested',
  stepId: 'pickCarrier',
  status: 'waiting',
  detail: {
    run: 2,
    question: 'Which carrier?',
    options: ['freight', 'parcel'],
    context: { order: { weightKg: 3 } },
  },
};

describe('decision triggers', () => {
  it("takes a case event's id, tenant and data, and nothing from its attributes", () => {
    const data: CaseEvent = {
      caseId: 'order-1',
      caseType: 'order',
      eventType: 'order.created',
      occurredAt: '2026-12-01T09:00:00.000Z',
      source: { system: 'orders', eventId: 'o-1', schemaVersion: 1 },
      attributes: { tenant: 'someone-else', orderId: 'o-1' },
    };
    expect(caseEventTrigger(envelope(data, 'order-1'))).toEqual({
      kind: 'case-event',
      eventId: 'evt-1',
      tenant: 'acme',
      caseId: 'order-1',
      caseType: 'order',
      eventType: 'order.created',
      occurredAt: '2026-12-01T09:00:00.000Z',
      attributes: { tenant: 'someone-else', orderId: 'o-1' },
    });
  });

  it('turns a decision request into a workflow trigger for the case the event is keyed by', () => {
    expect(workflowDecisionTrigger(envelope(request, 'order-1'))).toEqual({
      kind: 'workflow-decision',
      eventId: 'evt-1',
      tenant: 'acme',
      caseId: 'order-1',
      instanceId: 'wf-1',
      template: 'order-routing',
      stepId: 'pickCarrier',
      run: 2,
      question: 'Which carrier?',
      options: ['freight', 'parcel'],
      context: { order: { weightKg: 3 } },
    });
  });

  it('skips every other transition', () => {
    expect(
      workflowDecisionTrigger(envelope({ ...request, transition: 'step.completed' }, 'order-1')),
    ).toBeUndefined();
  });

  it('lets the consumer pass over exactly the transitions it skips, and keeps malformed requests for the dead letter', () => {
    expect(isDecisionRequest(envelope({ ...request, transition: 'step.completed' }, 'order-1'))).toBe(false);
    expect(isDecisionRequest(envelope(request, 'order-1'))).toBe(true);
    // Accepted, so its refusal still reaches the handler and the dead-letter path.
    expect(isDecisionRequest(envelope({ ...request, stepId: undefined }, 'order-1'))).toBe(true);
  });

  it('refuses a request without step or run, and that refusal is dead-lettered', () => {
    for (const broken of [
      { ...request, stepId: undefined },
      { ...request, detail: { question: 'q' } },
    ]) {
      let thrown: unknown;
      try {
        workflowDecisionTrigger(envelope(broken, 'order-1'));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DecisioningServiceError);
      // The consumer reads the handling from the catalog and writes the code to keel_dlq_code.
      expect(thrown).toMatchObject({
        code: 'invalid-request',
        consumerHandling: 'dead-letter',
        httpStatus: 400,
      });
    }
  });
});
