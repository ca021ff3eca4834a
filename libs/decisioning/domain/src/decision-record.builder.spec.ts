import { decisionRecordSchema } from '@keel/contracts';
import { currentArtifacts } from './artifacts';
import { type DecisionRun, buildDecisionRecord, recordBytes } from './decision-record.builder';
import { exceptionQuestion, orderCreated, refundPolicyChunk } from './testing/triggers.fixture';

const run: DecisionRun = {
  decisionId: 'dec-order-1',
  trigger: orderCreated,
  proposal: {
    tool: 'start_workflow',
    arguments: { template: 'order-routing', input: { orderId: 'o-1' } },
    rationale: 'Order carries everything.',
    confidence: 0.9,
  },
  planner: 'model',
  observations: [
    {
      call: { tool: 'get_case_history', arguments: {} },
      result: {
        kind: 'case-history',
        events: [
          {
            eventId: 'evt-earlier',
            eventType: 'order.updated',
            occurredAt: '2026-11-30T00:00:00.000Z',
            attributes: {},
          },
        ],
      },
    },
    {
      call: { tool: 'search_knowledge', arguments: { query: 'order' } },
      result: { kind: 'knowledge', chunks: [refundPolicyChunk] },
    },
  ],
  exchange: [
    { requestSha256: '1'.repeat(64), request: '{}', responseSha256: '2'.repeat(64), response: '[]' },
  ],
  clockReadings: [0, 40, 95],
  usage: { promptTokens: 1000, completionTokens: 200 },
  model: 'gpt-test',
};

describe('buildDecisionRecord', () => {
  it('records action, inputs with provenance, versions, cost, rule trace and what replay needs', () => {
    const record = buildDecisionRecord(run, currentArtifacts);
    expect(decisionRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      decisionId: 'dec-order-1',
      caseId: 'order-1',
      action:
        run.proposal.tool === 'start_workflow'
          ? { tool: 'start_workflow', arguments: run.proposal.arguments }
          : {},
      confidence: 0.9,
      risk: 'low',
      requiresApproval: false,
      mode: 'production',
      inputs: {
        eventIds: ['evt-order-1', 'evt-earlier'],
        chunks: [
          {
            documentId: 'doc-refunds',
            version: 3,
            chunkId: 'doc-refunds:3:0',
            hash: 'a'.repeat(64),
            score: 0.91,
          },
        ],
      },
      versions: {
        agentPolicy: { name: 'agent-policy', version: 1 },
        prompt: { name: 'decide', version: 1 },
        guardrailPolicy: { name: 'guardrails', version: 1 },
        model: 'gpt-test',
      },
      cost: {
        promptTokens: 1000,
        completionTokens: 200,
        latencyMs: 95,
        usd: (1000 * 0.15 + 200 * 0.6) / 1e6,
      },
      fallback: false,
      planner: 'model',
      replay: { clockReadings: [0, 40, 95], exchange: run.exchange },
    });
    expect(record.rulesEvaluated?.map((entry) => entry.rule)).toEqual([
      'tool-offered',
      'unsure',
      'refund',
      'large-amount',
      'vip-customer',
    ]);
  });

  it('turns a tool the policy refuses into an escalation that says why', () => {
    const record = buildDecisionRecord(
      { ...run, proposal: { tool: 'answer', arguments: { option: 'x' }, rationale: 'r', confidence: 1 } },
      currentArtifacts,
    );
    expect(record.action).toEqual({
      tool: 'escalate',
      arguments: { reason: 'tool answer is not allowed for order.created' },
    });
    expect(record).toMatchObject({ risk: 'high', requiresApproval: false });
  });

  it('links an answer to the workflow step it answers and marks a fallback with its reason', () => {
    const record = buildDecisionRecord(
      {
        ...run,
        trigger: exceptionQuestion,
        planner: 'offline',
        fallbackReason: 'model unavailable: HTTP 500',
        proposal: { tool: 'answer', arguments: { option: 'refund' }, rationale: 'r', confidence: 0.99 },
      },
      currentArtifacts,
    );
    expect(record).toMatchObject({
      answers: { instanceId: 'wf-exception-1', stepId: 'classify', run: 1 },
      fallback: true,
      fallbackReason: 'model unavailable: HTTP 500',
      requiresApproval: true,
      risk: 'high',
    });
  });

  it('is byte-identical for the same run and versions, and differs when a version does', () => {
    const bytes = recordBytes(buildDecisionRecord(run, currentArtifacts));
    expect(recordBytes(buildDecisionRecord(structuredClone(run), currentArtifacts))).toBe(bytes);
    const nextPrompt = { ...currentArtifacts, prompt: { ...currentArtifacts.prompt, version: 2 } };
    expect(recordBytes(buildDecisionRecord(run, nextPrompt))).not.toBe(bytes);
  });
});
