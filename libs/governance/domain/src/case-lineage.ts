import { type AuditRow } from './audit-chain';
import { type JsonValue } from './canonical-json';

/** The stages a case passes through, in the order lineage lists them. */
export type LineageStage =
  | 'source-event'
  | 'normalized-event'
  | 'retrieved-chunks'
  | 'decision'
  | 'workflow-command'
  | 'workflow-step'
  | 'action'
  | 'approval';

/** One thing that happened to a case, from the audit log. */
export interface LineageEntry {
  readonly stage: LineageStage;
  /** The event's own time (CloudEvents `time`). */
  readonly at: string;
  /** Where it sits in the tenant's audit chain (verifiable with `verify`). */
  readonly position: number;
  readonly topic: string;
  readonly type: string;
  readonly eventId: string;
  /** What the stage says, picked from the event (the whole event is in the audit row at `position`). */
  readonly detail: { readonly [key: string]: JsonValue };
}

export interface CaseLineage {
  readonly caseId: string;
  readonly entries: readonly LineageEntry[];
}

/** The audit topics lineage reads, by registry name, and the stage each row becomes. */
const stageOfTopic: Readonly<Record<string, LineageStage>> = {
  'keel.source.raw.v1': 'source-event',
  'keel.cases.events.v1': 'normalized-event',
  'keel.decisions.v1': 'decision',
  'keel.workflow.commands.v1': 'workflow-command',
  'keel.workflow.events.v1': 'workflow-step',
  'keel.support.notifications.v1': 'action',
  'keel.governance.approvals.v1': 'approval',
};

/** Where governance records an inbox answer that has no topic of its own (a guardrail hold's). */
export const inboxAuditTopic = 'governance.approvals-inbox';

/**
 * A case's lineage from its audit rows (and the raw source events they name as cause): source event →
 * normalized event → retrieved chunks → decision (versions, release, rule trace) → workflow steps and actions
 * → approvals, ordered by event time, ties by chain position, each stage with its timestamp.
 */
export function caseLineage(caseId: string, rows: readonly AuditRow[]): CaseLineage {
  const entries: LineageEntry[] = [];
  for (const row of rows) {
    const stage = row.topic === inboxAuditTopic ? 'approval' : stageOfTopic[row.topic];
    if (stage === undefined) continue;
    const event = asObject(row.event);
    const data = asObject(event.data);
    const base = {
      at: row.occurredAt,
      position: row.position,
      topic: row.topic,
      type: row.type,
      eventId: row.eventId,
    };
    if (stage === 'decision') {
      const inputs = asObject(data.inputs);
      // Retrieval happened before the decision that used it; it is listed just ahead of it at its time.
      entries.push({ ...base, stage: 'retrieved-chunks', detail: { chunks: inputs.chunks ?? [] } });
      entries.push({ ...base, stage, detail: decisionDetail(data, inputs) });
      continue;
    }
    entries.push({ ...base, stage, detail: detailOf(stage, event, data) });
  }
  const rank = (entry: LineageEntry) => (entry.stage === 'retrieved-chunks' ? 0 : 1);
  entries.sort(
    (left, right) =>
      (left.at < right.at ? -1 : left.at > right.at ? 1 : 0) ||
      left.position - right.position ||
      rank(left) - rank(right),
  );
  return { caseId, entries };
}

function decisionDetail(
  data: { readonly [key: string]: JsonValue },
  inputs: { readonly [key: string]: JsonValue },
): { [key: string]: JsonValue } {
  const detail: { [key: string]: JsonValue } = {};
  for (const [key, value] of pick(data, decisionFields)) detail[key] = value;
  detail.inputEventIds = inputs.eventIds ?? [];
  // The release a decision ran under (`versions.release`), null when decisioning ran its bundled files.
  detail.release = asObject(data.versions).release ?? null;
  return detail;
}

const decisionFields = [
  'decisionId',
  'action',
  'mode',
  'confidence',
  'risk',
  'requiresApproval',
  'rationale',
  'versions',
  'planner',
  'fallback',
  'rulesEvaluated',
  'answers',
  'shadow',
] as const;

function detailOf(
  stage: LineageStage,
  event: { readonly [key: string]: JsonValue },
  data: { readonly [key: string]: JsonValue },
): { [key: string]: JsonValue } {
  const fields: Record<Exclude<LineageStage, 'decision' | 'retrieved-chunks'>, readonly string[]> = {
    'source-event': ['system', 'eventType', 'schemaVersion'],
    'normalized-event': ['caseType', 'eventType', 'occurredAt', 'source'],
    'workflow-command': [
      'command',
      'instanceId',
      'template',
      'templateVersion',
      'signal',
      'stepId',
      'reason',
    ],
    'workflow-step': [
      'instanceId',
      'template',
      'templateVersion',
      'sequence',
      'transition',
      'stepId',
      'status',
      'detail',
      'release',
    ],
    action: ['ticketId', 'queue'],
    approval: [
      'status',
      'approvalId',
      'instanceId',
      'stepId',
      'run',
      'title',
      'approverRole',
      'dueAt',
      'decidedBy',
      'reason',
      'decisionId',
    ],
  };
  const detail: { [key: string]: JsonValue } = {};
  for (const [key, value] of pick(data, fields[stage as keyof typeof fields])) detail[key] = value;
  if (stage === 'normalized-event' && typeof event.causationid === 'string')
    detail.sourceEventId = event.causationid;
  return detail;
}

function pick(
  data: { readonly [key: string]: JsonValue },
  keys: readonly string[],
): Array<[string, JsonValue]> {
  return keys.flatMap((key): Array<[string, JsonValue]> =>
    data[key] === undefined ? [] : [[key, data[key]]],
  );
}

function asObject(value: JsonValue | undefined): { readonly [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}
