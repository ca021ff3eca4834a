import { type Principal } from '@keel/access';
import { type DecisionRecord } from '@keel/contracts';
import { loadAgentPolicy, loadGuardrailPolicy } from '@keel/decisioning-domain';
import {
  type DecisionSample,
  type DriftThresholds,
  GovernanceError,
  type Release,
  driftSignals,
  evaluateDrift,
  outcomesOf,
} from '@keel/governance-domain';
import type { EntityManager } from 'typeorm';
import { type AuditService } from '../application/audit.service';
import { type ReleaseService } from '../application/release.service';
import { type ArtifactVersions } from '../persistence/artifact-versions.repository';
import { type Releases } from '../persistence/releases.repository';
import { type Transactions } from '../persistence/transactions';
import { type DriftEvaluation, type DriftEvaluations } from './persistence/drift-evaluations.repository';
import { type RecordedDecision, type RecordedDecisions } from './persistence/recorded-decisions.repository';
import { type GovernanceQualityConfig } from './quality.config';
import { auditQualityAct } from './quality-audit';
import { type QualityMetrics } from './quality.metrics';

export interface DriftMonitorOptions {
  readonly transactions: Transactions;
  readonly releases: Releases;
  readonly versions: ArtifactVersions;
  readonly decisions: RecordedDecisions;
  readonly evaluations: DriftEvaluations;
  /** Rolls back through the one release path, so a drift rollback is published and audited like any other. */
  readonly releaseService: ReleaseService;
  readonly audit: AuditService;
  readonly metrics: QualityMetrics;
  readonly config: GovernanceQualityConfig;
  readonly source: string;
  readonly now: () => Date;
}

/** Who the drift monitor acts as when it rolls a release back: in the release history and the events. */
export const driftMonitorActor = 'governance-drift-monitor';

/**
 * Drift of the production release: its newest decisions (made under its own agent and guardrail policy
 * versions, after its promotion) against the newest decisions before its promotion — what production did
 * until then. A breach sets the alert gauge and is audited once per release; where the release's
 * `quality.drift.autoRollback` says so, the monitor rolls it back (audited, and published as any rollback).
 */
export class DriftMonitor {
  /** The version each tenant's gauges were last set for, so a replaced version's alert is cleared. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly options: DriftMonitorOptions) {}

  /** Evaluates the tenant's production release now; undefined when none is in production. */
  async evaluate(tenant: string): Promise<DriftEvaluation | undefined> {
    const { transactions, evaluations } = this.options;
    const looked = await transactions.run((manager) => this.look(manager, tenant));
    if (looked === undefined) return undefined;
    const { production, version, baseline, current, thresholds, autoRollback } = looked;
    const report = evaluateDrift(baseline, current, thresholds);
    const breached = report.breaches.length > 0;
    this.setGauges(tenant, version, report);
    const at = this.options.now().toISOString();
    const reason = `drift of '${production.id}' (${version}): ${report.breaches
      .map((breach) => `${breach.signal} ${breach.value} > ${breach.limit}`)
      .join(', ')}`;
    let rolledBack = false;
    let rollbackRefused: string | undefined;
    if (breached && autoRollback) {
      try {
        await this.options.releaseService.rollBack(this.actor(tenant), production.id, reason);
        rolledBack = true;
        this.options.metrics.driftRollbacks.inc({ tenant });
      } catch (error) {
        // Nothing before it to return to, or another release went to production since the look: the breach
        // still alerts and is audited, with why the release stayed (or was already replaced).
        const refused =
          error instanceof GovernanceError &&
          (error.code === 'nothing-to-roll-back' || error.code === 'invalid-transition');
        if (!refused) throw error;
        rollbackRefused = error.message;
      }
    }
    const evaluation: DriftEvaluation = {
      tenant,
      releaseId: production.id,
      version,
      evaluatedAt: at,
      breached,
      rolledBack,
      report,
    };
    await transactions.run(async (manager) => {
      const previous = await evaluations.latest(manager, tenant, production.id);
      await evaluations.add(manager, evaluation);
      const data = {
        releaseId: production.id,
        version,
        breaches: report.breaches.map((breach) => ({ ...breach })),
        baselineDecisions: report.baseline.decisions,
        currentDecisions: report.current.decisions,
        autoRollback,
        ...(rollbackRefused === undefined ? {} : { rollbackRefused }),
      };
      const act = { tenant, releaseId: production.id, source: this.options.source, at };
      // A breach that persists is audited when it starts, not on every look.
      if (breached && previous?.breached !== true) {
        await auditQualityAct(this.options.audit, manager, {
          ...act,
          type: 'keel.governance.drift.breached',
          data,
        });
      }
      if (rolledBack) {
        await auditQualityAct(this.options.audit, manager, {
          ...act,
          type: 'keel.governance.drift.rolled_back',
          data: { ...data, by: driftMonitorActor, reason },
        });
      }
    });
    return evaluation;
  }

  /** The newest evaluation of the tenant's releases. */
  latest(tenant: string): Promise<DriftEvaluation> {
    return this.options.transactions.run(async (manager) => {
      const evaluation = await this.options.evaluations.latest(manager, tenant);
      if (evaluation === undefined)
        throw new GovernanceError('not-found', `no drift evaluation in '${tenant}' yet`);
      return evaluation;
    });
  }

  private async look(manager: EntityManager, tenant: string) {
    const { releases, versions, decisions, config } = this.options;
    const production = (await releases.list(manager, tenant)).find(
      (release) => release.state === 'production',
    );
    if (production === undefined) return undefined;
    const promotedAt = promotionOf(production);
    const { contents } = production;
    const agentPolicy = await versions.get(
      manager,
      tenant,
      'agent-policy',
      contents.agentPolicy.name,
      contents.agentPolicy.version,
    );
    const guardrailPolicy = await versions.get(
      manager,
      tenant,
      'guardrail-policy',
      contents.guardrailPolicy.name,
      contents.guardrailPolicy.version,
    );
    if (agentPolicy === undefined || guardrailPolicy === undefined) {
      throw new GovernanceError(
        'unknown-version',
        `release '${production.id}' names versions not in the registry`,
      );
    }
    // Records name the versions as the artifacts' own content does, not as the registry numbers them.
    const agent = loadAgentPolicy(agentPolicy.content);
    const guardrails = loadGuardrailPolicy(guardrailPolicy.content);
    const recordVersions = {
      agentPolicy: { name: agent.name, version: agent.version },
      guardrailPolicy: { name: guardrails.name, version: guardrails.version },
    };
    const window = config.GOVERNANCE_DRIFT_WINDOW;
    const current = await decisions.newest(manager, tenant, {
      mode: 'production',
      from: promotedAt,
      versions: recordVersions,
      limit: window,
    });
    const baseline = await decisions.newest(manager, tenant, {
      mode: 'production',
      before: promotedAt,
      limit: window,
    });
    const both = [...baseline, ...current];
    const answers = await decisions.answersOn(
      manager,
      tenant,
      both.filter((item) => item.record.requiresApproval).map((item) => item.record.caseId),
    );
    const outcomes = outcomesOf(
      both.map((item) => ({
        position: item.position,
        caseId: item.record.caseId,
        requiresApproval: item.record.requiresApproval,
      })),
      answers,
    );
    const samples = (items: readonly RecordedDecision[]): DecisionSample[] =>
      items.map((item) => sampleOf(item.record, outcomes.get(item.position)));
    const own = contents.quality?.drift;
    const thresholds: DriftThresholds = {
      maxMixShift: own?.maxMixShift ?? config.GOVERNANCE_DRIFT_MAX_MIX_SHIFT,
      maxConfidenceDrop: own?.maxConfidenceDrop ?? config.GOVERNANCE_DRIFT_MAX_CONFIDENCE_DROP,
      maxOverrideRateRise: own?.maxOverrideRateRise ?? config.GOVERNANCE_DRIFT_MAX_OVERRIDE_RISE,
      minDecisions: config.GOVERNANCE_DRIFT_MIN_DECISIONS,
      minOutcomes: config.GOVERNANCE_DRIFT_MIN_OUTCOMES,
    };
    return {
      production,
      version: versionLabel(recordVersions),
      baseline: samples(baseline),
      current: samples(current),
      thresholds,
      autoRollback: own?.autoRollback ?? false,
    };
  }

  private setGauges(tenant: string, version: string, report: ReturnType<typeof evaluateDrift>): void {
    const { driftValue, driftBreach } = this.options.metrics;
    const previous = this.reported.get(tenant);
    if (previous !== undefined && previous !== version) {
      for (const signal of driftSignals) {
        driftBreach.remove({ tenant, version: previous, signal });
        driftValue.remove({ tenant, version: previous, signal });
      }
    }
    this.reported.set(tenant, version);
    for (const signal of driftSignals) {
      const value = report.signals[signal];
      if (value === null) driftValue.remove({ tenant, version, signal });
      else driftValue.set({ tenant, version, signal }, value);
      const breached = report.breaches.some((breach) => breach.signal === signal);
      driftBreach.set({ tenant, version, signal }, breached ? 1 : 0);
    }
  }

  private actor(tenant: string): Principal {
    return { subject: driftMonitorActor, tenant, roles: ['admin'] };
  }
}

/** `support-agent@2+guardrails@1`: the label drift and shadow agreement are reported under. */
export function versionLabel(
  versions: Pick<DecisionRecord['versions'], 'agentPolicy' | 'guardrailPolicy'>,
): string {
  return `${versions.agentPolicy.name}@${versions.agentPolicy.version}+${versions.guardrailPolicy.name}@${versions.guardrailPolicy.version}`;
}

function sampleOf(record: DecisionRecord, outcome: DecisionSample['outcome']): DecisionSample {
  return outcome === undefined
    ? { tool: record.action.tool, confidence: record.confidence }
    : { tool: record.action.tool, confidence: record.confidence, outcome };
}

/** When the release last reached production (a rollback can bring it back later than its first promotion). */
function promotionOf(release: Release): string {
  const step = [...release.history].reverse().find((item) => item.state === 'production');
  if (step === undefined)
    throw new Error(`release '${release.id}' is in production without a production step`);
  return step.at;
}
