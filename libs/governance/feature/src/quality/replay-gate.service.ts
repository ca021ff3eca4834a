import { type Principal } from '@keel/access';
import { type ReleaseContents } from '@keel/contracts';
import { isKeelError } from '@keel/errors';
import {
  GovernanceError,
  GovernanceQualityError,
  type Release,
  type ReleaseScope,
  type ReplayGatePolicy,
  judgeReplay,
  outcomesOf,
  productionRelease,
  summariseReplay,
} from '@keel/governance-domain';
import type { EntityManager } from 'typeorm';
import { type AuditService } from '../application/audit.service';
import { type PromotionGate } from '../application/release.service';
import { type ArtifactVersions } from '../persistence/artifact-versions.repository';
import { type Releases } from '../persistence/releases.repository';
import { type Transactions } from '../persistence/transactions';
import { type CandidateArtifacts, candidateArtifactsOf, replayRecorded } from './decision-replayer';
import { type RecordedDecisions } from './persistence/recorded-decisions.repository';
import {
  type ReplayReport,
  type ReplayReports,
  type ReplayedCandidate,
} from './persistence/replay-reports.repository';
import { type GovernanceQualityConfig } from './quality.config';
import { auditQualityAct } from './quality-audit';
import { type QualityMetrics } from './quality.metrics';

export interface ReplayGateOptions {
  readonly transactions: Transactions;
  readonly releases: Releases;
  readonly versions: ArtifactVersions;
  readonly decisions: RecordedDecisions;
  readonly reports: ReplayReports;
  readonly audit: AuditService;
  readonly metrics: QualityMetrics;
  readonly config: GovernanceQualityConfig;
  /** CloudEvents `source` of the audited acts. */
  readonly source: string;
  readonly now: () => Date;
}

/**
 * The replay gate's use cases: replay a release over the newest recorded production decisions and keep the
 * report with its verdict (audited), and an admin's override of a blocked report (audited).
 */
export class ReplayGateService {
  constructor(private readonly options: ReplayGateOptions) {}

  /** @throws GovernanceError `not-found`; GovernanceQualityError `unreplayable-release`. */
  async replay(by: Principal, releaseId: string): Promise<ReplayReport> {
    const { transactions, releases, decisions, reports, config } = this.options;
    const report = await transactions.run(async (manager) => {
      // Under the scope's lock: production cannot change under the replay, and runs are numbered one by one.
      const scope = await releases.lockScope(manager, by.tenant);
      const release = releaseIn(scope, releaseId);
      const production = productionRelease(scope);
      const candidate = await this.candidateOf(manager, by.tenant, release.contents);
      const recorded = await decisions.newest(manager, by.tenant, {
        mode: 'production',
        limit: config.GOVERNANCE_REPLAY_SAMPLE,
      });
      const answers = await decisions.answersOn(
        manager,
        by.tenant,
        recorded.filter((item) => item.record.requiresApproval).map((item) => item.record.caseId),
      );
      const outcomes = outcomesOf(
        recorded.map((item) => ({
          position: item.position,
          caseId: item.record.caseId,
          requiresApproval: item.record.requiresApproval,
        })),
        answers,
      );
      const cases = await replayRecorded(
        recorded.map((item) => {
          const outcome = outcomes.get(item.position);
          return outcome === undefined ? { record: item.record } : { record: item.record, outcome };
        }),
        candidate,
      );
      const summary = summariseReplay(cases);
      const policy = this.policyOf(release);
      const verdict = judgeReplay(summary, policy);
      const at = this.options.now().toISOString();
      const stored = await reports.add(manager, {
        tenant: by.tenant,
        releaseId,
        ...(production === undefined ? {} : { againstRelease: production.id }),
        candidate: candidateOf(release.contents),
        policy,
        summary,
        passed: verdict.passed,
        reasons: verdict.reasons,
        runBy: by.subject,
        runAt: at,
      });
      await auditQualityAct(this.options.audit, manager, {
        type: 'keel.governance.replay.evaluated',
        tenant: by.tenant,
        releaseId,
        source: this.options.source,
        at,
        data: {
          releaseId,
          run: stored.run,
          againstRelease: production?.id ?? null,
          by: by.subject,
          passed: verdict.passed,
          reasons: [...verdict.reasons],
          recorded: summary.recorded,
          agreement: summary.agreement,
          changed: summary.changed,
          diverged: summary.diverged,
        },
      });
      return stored;
    });
    const { metrics } = this.options;
    metrics.replayedDecisions.inc({ result: 'agreed' }, report.summary.agreed);
    metrics.replayedDecisions.inc({ result: 'changed' }, report.summary.changed);
    metrics.replayedDecisions.inc({ result: 'diverged' }, report.summary.diverged);
    metrics.gateVerdicts.inc({ verdict: report.passed ? 'passed' : 'blocked' });
    return report;
  }

  /** @throws GovernanceError `not-found` when the release was never replayed. */
  latest(tenant: string, releaseId: string): Promise<ReplayReport> {
    return this.options.transactions.run(async (manager) => {
      const report = await this.options.reports.latest(manager, tenant, releaseId);
      if (report === undefined) {
        throw new GovernanceError('not-found', `release '${releaseId}' has not been replayed`);
      }
      return report;
    });
  }

  /**
   * An admin lets a blocked release through: the override names who and why, is audited, and holds only for
   * the report it overrides (a new replay needs a new override).
   *
   * @throws GovernanceError `not-found`; GovernanceQualityError `override-not-needed` when the newest replay
   *   passed or there is none.
   */
  async override(by: Principal, releaseId: string, reason: string): Promise<ReplayReport> {
    const report = await this.options.transactions.run(async (manager) => {
      const scope = await this.options.releases.lockScope(manager, by.tenant);
      releaseIn(scope, releaseId);
      const report = await this.options.reports.latest(manager, by.tenant, releaseId);
      if (report === undefined) {
        throw new GovernanceQualityError(
          'override-not-needed',
          `release '${releaseId}' has not been replayed: replay it first, so the override is made on the figures`,
        );
      }
      if (report.passed) {
        throw new GovernanceQualityError(
          'override-not-needed',
          `release '${releaseId}' passed its replay gate`,
        );
      }
      if (report.override !== undefined) return report;
      const override = { by: by.subject, reason, at: this.options.now().toISOString() };
      await this.options.reports.override(manager, report, override);
      await auditQualityAct(this.options.audit, manager, {
        type: 'keel.governance.replay.overridden',
        tenant: by.tenant,
        releaseId,
        source: this.options.source,
        at: override.at,
        data: {
          releaseId,
          run: report.run,
          by: by.subject,
          reason,
          reasons: [...report.reasons],
          agreement: report.summary.agreement,
          changed: report.summary.changed,
        },
      });
      return { ...report, override };
    });
    this.options.metrics.gateVerdicts.inc({ verdict: 'overridden' });
    return report;
  }

  /** The release's own bar where it sets one, the service's defaults for the rest. */
  private policyOf(release: Release): ReplayGatePolicy {
    const own = release.contents.quality?.replayGate;
    const { config } = this.options;
    return {
      minAgreement: own?.minAgreement ?? config.GOVERNANCE_REPLAY_MIN_AGREEMENT,
      ...(own?.maxChangedDecisions === undefined ? {} : { maxChangedDecisions: own.maxChangedDecisions }),
      minRecorded: config.GOVERNANCE_REPLAY_MIN_RECORDED,
    };
  }

  private async candidateOf(
    manager: EntityManager,
    tenant: string,
    contents: ReleaseContents,
  ): Promise<CandidateArtifacts> {
    const content = async (
      kind: 'agent-policy' | 'prompt' | 'guardrail-policy',
      member: { name: string; version: number },
    ) => {
      const found = await this.options.versions.get(manager, tenant, kind, member.name, member.version);
      if (found === undefined) {
        throw new GovernanceError(
          'unknown-version',
          `no version ${member.version} of ${kind} '${member.name}'`,
        );
      }
      return found.content;
    };
    const agentPolicy = await content('agent-policy', contents.agentPolicy);
    const prompt = await content('prompt', contents.prompt);
    const guardrailPolicy = await content('guardrail-policy', contents.guardrailPolicy);
    try {
      return candidateArtifactsOf({ agentPolicy, prompt, guardrailPolicy }, contents.model);
    } catch (error) {
      if (!isKeelError(error)) throw error;
      throw new GovernanceQualityError(
        'unreplayable-release',
        `the release's artifacts cannot be loaded: ${error.message}`,
        {
          cause: error,
        },
      );
    }
  }
}

/**
 * The gate in force at promotion, consulted by `ReleaseService` inside the promotion's transaction (after the
 * tenant's scope is locked): a release that changes what decides — agent policy, prompt, guardrail policy or
 * model — goes to production only with a replay against the production release in force that passed, or
 * that an admin overrode. The first release of a tenant has nothing recorded to compare with and passes.
 */
export class ReplayPromotionGate implements PromotionGate {
  constructor(private readonly reports: ReplayReports) {}

  async check(manager: EntityManager, scope: ReleaseScope, releaseId: string, stage: string): Promise<void> {
    if (stage !== 'production') return;
    const release = scope.releases[releaseId];
    // A release that cannot be promoted is refused by the lifecycle with its own reason.
    if (release?.state !== 'shadow') return;
    const production = productionRelease(scope);
    if (production === undefined || !changesWhatDecides(release.contents, production.contents)) return;
    const report = await this.reports.latest(manager, scope.tenant, releaseId);
    if (
      report === undefined ||
      report.againstRelease !== production.id ||
      !sameCandidate(report.candidate, candidateOf(release.contents))
    ) {
      throw new GovernanceQualityError(
        'replay-required',
        `release '${releaseId}' changes what decides: replay it against production release '${production.id}' first (POST /v1/releases/${releaseId}/replay)`,
      );
    }
    if (report.passed || report.override !== undefined) return;
    throw new GovernanceQualityError(
      'replay-gate-blocked',
      `release '${releaseId}' is blocked by its replay gate: ${report.reasons.join('; ')}`,
      {
        details: {
          run: report.run,
          reasons: report.reasons,
          recorded: report.summary.recorded,
          agreement: report.summary.agreement,
          changed: report.summary.changed,
          diverged: report.summary.diverged,
          transitions: report.summary.transitions,
        },
      },
    );
  }
}

function releaseIn(scope: ReleaseScope, releaseId: string): Release {
  const release = scope.releases[releaseId];
  if (release === undefined) {
    throw new GovernanceError('not-found', `no release '${releaseId}' in tenant '${scope.tenant}'`);
  }
  return release;
}

function candidateOf(contents: ReleaseContents): ReplayedCandidate {
  return {
    agentPolicy: contents.agentPolicy,
    prompt: contents.prompt,
    guardrailPolicy: contents.guardrailPolicy,
    model: contents.model,
  };
}

function sameCandidate(left: ReplayedCandidate, right: ReplayedCandidate): boolean {
  return (
    left.model === right.model &&
    left.agentPolicy.contentHash === right.agentPolicy.contentHash &&
    left.prompt.contentHash === right.prompt.contentHash &&
    left.guardrailPolicy.contentHash === right.guardrailPolicy.contentHash
  );
}

function changesWhatDecides(candidate: ReleaseContents, production: ReleaseContents): boolean {
  return !sameCandidate(candidateOf(candidate), candidateOf(production));
}
