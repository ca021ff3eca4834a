import { createHash } from 'node:crypto';
import { type CloudEvent } from '@keel/contracts';
import type { EntityManager } from 'typeorm';
import { type AuditService } from '../application/audit.service';

/**
 * The audit rows of governance's own quality acts (replay verdicts, gate overrides, drift breaches and
 * rollbacks). They are appended to the tenant's chain in the act's own transaction rather than published:
 * no service consumes them, and a published event could be audited only after the act had committed.
 * Not a Kafka topic; the rows carry this name in the `topic` column.
 */
export const qualityAuditTopic = 'keel.governance.quality';

export type QualityAct =
  | 'keel.governance.replay.evaluated'
  | 'keel.governance.replay.overridden'
  | 'keel.governance.drift.breached'
  | 'keel.governance.drift.rolled_back';

/** Appends one act, about a release (the row's subject), to the tenant's audit chain. */
export async function auditQualityAct(
  audit: AuditService,
  manager: EntityManager,
  act: {
    readonly type: QualityAct;
    readonly tenant: string;
    readonly releaseId: string;
    readonly source: string;
    readonly at: string;
    readonly data: Record<string, unknown>;
  },
): Promise<void> {
  const id = createHash('sha256')
    .update(`${act.tenant}/${act.releaseId}/${act.type}/${act.at}/${JSON.stringify(act.data)}`)
    .digest('hex');
  const event: CloudEvent = {
    specversion: '1.0',
    id,
    source: act.source,
    type: act.type,
    time: act.at,
    subject: act.releaseId,
    dataschema: 'keel.governance.quality@1',
    datacontenttype: 'application/json',
    tenant: act.tenant,
    correlationid: act.releaseId,
    idempotencykey: id,
    data: act.data,
  };
  await audit.record(manager, qualityAuditTopic, [event]);
}
