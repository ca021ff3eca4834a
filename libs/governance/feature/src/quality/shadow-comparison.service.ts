import { type DecisionRecord } from '@keel/contracts';
import { type ComparableDecision, type ShadowComparison, compareShadow } from '@keel/governance-domain';
import { type Transactions } from '../persistence/transactions';
import { actionOf } from './decision-replayer';
import { versionLabel } from './drift-monitor.service';
import { type RecordedDecisions } from './persistence/recorded-decisions.repository';
import { type QualityMetrics } from './quality.metrics';

/**
 * Shadow agreement from the audit log: each shadow decision (recorded, never acted on) against production's
 * decision on the same trigger, per shadow version; the figures are also set as gauges.
 */
export class ShadowComparisonService {
  constructor(
    private readonly transactions: Transactions,
    private readonly decisions: RecordedDecisions,
    private readonly metrics: QualityMetrics,
  ) {}

  /** Compares the tenant's newest `window` decisions (both modes). */
  async compare(tenant: string, window: number): Promise<ShadowComparison> {
    const recorded = await this.transactions.run((manager) =>
      this.decisions.newest(manager, tenant, { limit: window }),
    );
    // Oldest first, so the first record of a redelivered decision is the one that counts.
    const comparison = compareShadow(recorded.reverse().map((item) => comparableOf(item.record)));
    for (const version of comparison.versions) {
      this.metrics.shadowCompared.set({ tenant, version: version.version }, version.compared);
      if (version.agreement !== null) {
        this.metrics.shadowAgreement.set({ tenant, version: version.version }, version.agreement);
      }
    }
    return comparison;
  }
}

function comparableOf(record: DecisionRecord): ComparableDecision {
  const trigger = record.replay?.trigger;
  const eventId = trigger?.['eventId'];
  const kind = trigger?.['kind'];
  return {
    decisionId: record.decisionId,
    caseId: record.caseId,
    // The trigger the decision answered; records without a replay section fall back to their input events.
    trigger:
      typeof eventId === 'string' && typeof kind === 'string'
        ? `${kind}:${eventId}`
        : `events:${record.inputs.eventIds.join(',')}`,
    mode: record.mode,
    ...(record.shadow === undefined ? {} : { counterpart: record.shadow.productionDecisionId }),
    ...(record.versions.release === undefined ? {} : { release: record.versions.release }),
    version: versionLabel(record.versions),
    action: actionOf(record),
  };
}
