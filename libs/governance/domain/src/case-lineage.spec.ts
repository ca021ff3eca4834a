import { type AuditRow } from './audit-chain';
import { type JsonValue } from './canonical-json';
import { caseLineage, inboxAuditTopic } from './case-lineage';

let position = 0;
const row = (topic: string, at: string, data: JsonValue, extra: Record<string, JsonValue> = {}): AuditRow => {
  position += 1;
  return {
    tenant: 'acme',
    position,
    eventId: `e-${position}`,
    topic,
    type: 'keel.test',
    subject: 'case-1',
    occurredAt: at,
    event: { id: `e-${position}`, time: at, data, ...extra },
    previousHash: '',
    rowHash: '',
  };
};

describe('caseLineage', () => {
  it('orders the stages by event time, puts retrieval before its decision, and names versions and release', () => {
    const rows = [
      // Recorded out of order (different topics are consumed apart): lineage goes by event time.
      row('keel.workflow.events.v1', '2026-12-01T10:00:03.000Z', {
        instanceId: 'dec-1',
        transition: 'workflow.started',
        status: 'running',
      }),
      row('keel.decisions.v1', '2026-12-01T10:00:02.000Z', {
        decisionId: 'dec-1',
        action: { tool: 'start_workflow', arguments: {} },
        inputs: { eventIds: ['e-3'], chunks: [{ chunkId: 'doc:1:0', score: 0.8 }] },
        versions: { agentPolicy: { name: 'p', version: 2 }, model: 'm', release: 'rel-7' },
        rulesEvaluated: [{ rule: 'r', inputs: {}, result: true }],
      }),
      row(
        'keel.cases.events.v1',
        '2026-12-01T10:00:01.000Z',
        { eventType: 'order.placed' },
        { causationid: 'raw-1' },
      ),
      row('keel.source.raw.v1', '2026-12-01T10:00:00.000Z', {
        system: 'shop',
        eventType: 'order',
        schemaVersion: 1,
      }),
      row(inboxAuditTopic, '2026-12-01T10:00:04.000Z', { status: 'granted', decidedBy: 'bob' }),
      row('keel.knowledge.documents.v1', '2026-12-01T10:00:05.000Z', { documentId: 'doc' }),
    ];
    const lineage = caseLineage('case-1', rows);
    expect(lineage.entries.map((entry) => entry.stage)).toEqual([
      'source-event',
      'normalized-event',
      'retrieved-chunks',
      'decision',
      'workflow-step',
      'approval',
    ]);
    const [, normalized, chunks, decision] = lineage.entries;
    expect(normalized.detail).toMatchObject({ sourceEventId: 'raw-1' });
    expect(chunks.detail).toEqual({ chunks: [{ chunkId: 'doc:1:0', score: 0.8 }] });
    expect(decision.detail).toMatchObject({
      release: 'rel-7',
      versions: { agentPolicy: { name: 'p', version: 2 } },
      rulesEvaluated: [{ rule: 'r', result: true }],
      inputEventIds: ['e-3'],
    });
    expect(decision.position).toBe(2);
  });
});
