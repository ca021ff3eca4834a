import { type ReleaseContents } from '@keel/contracts';
import {
  GovernanceQualityError,
  type Release,
  type ReleaseScope,
  summariseReplay,
} from '@keel/governance-domain';
import type { EntityManager } from 'typeorm';
import { sampleReleaseContents } from '../../../domain/src/testing/sample-release';
import {
  type ReplayOverride,
  type ReplayReport,
  type ReplayReports,
} from './persistence/replay-reports.repository';
import { ReplayPromotionGate } from './replay-gate.service';

/** Replay reports in memory: the newest per release. */
class InMemoryReplayReports implements ReplayReports {
  readonly reports: ReplayReport[] = [];

  add(_manager: EntityManager, report: Omit<ReplayReport, 'run'>): Promise<ReplayReport> {
    const run = this.reports.filter((item) => item.releaseId === report.releaseId).length + 1;
    const stored = { ...report, run };
    this.reports.push(stored);
    return Promise.resolve(stored);
  }

  latest(_manager: EntityManager, tenant: string, releaseId: string): Promise<ReplayReport | undefined> {
    return Promise.resolve(
      this.reports.filter((item) => item.tenant === tenant && item.releaseId === releaseId).at(-1),
    );
  }

  override(_manager: EntityManager, report: ReplayReport, override: ReplayOverride): Promise<boolean> {
    const index = this.reports.indexOf(report);
    this.reports[index] = { ...report, override };
    return Promise.resolve(true);
  }
}

const manager = {} as EntityManager;
const changedGuardrails: ReleaseContents = {
  ...sampleReleaseContents,
  guardrailPolicy: { name: 'guardrails', version: 2, contentHash: 'e'.repeat(64) },
};

function release(id: string, state: Release['state'], contents: ReleaseContents): Release {
  return { id, tenant: 'acme', author: 'alice', contents, state, history: [] };
}

function scope(...releases: Release[]): ReleaseScope {
  return {
    tenant: 'acme',
    releases: Object.fromEntries(releases.map((item) => [item.id, item])),
    productionLine: releases.filter((item) => item.state === 'production').map((item) => item.id),
  };
}

async function report(
  reports: InMemoryReplayReports,
  passed: boolean,
  overrides: Partial<Omit<ReplayReport, 'run'>> = {},
): Promise<ReplayReport> {
  return reports.add(manager, {
    tenant: 'acme',
    releaseId: 'r2',
    againstRelease: 'r1',
    candidate: changedGuardrails,
    policy: { minAgreement: 0.9, minRecorded: 1 },
    summary: summariseReplay([]),
    passed,
    reasons: passed ? [] : ["agreement 50.0% is below the release's minimum 90.0%"],
    runBy: 'alice',
    runAt: '2026-12-01T10:00:00.000Z',
    ...overrides,
  });
}

async function refusal(attempt: Promise<void>): Promise<GovernanceQualityError> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof GovernanceQualityError) return error;
    throw error;
  }
  throw new Error('expected the gate to refuse');
}

describe('replay promotion gate', () => {
  const candidate = scope(
    release('r1', 'production', sampleReleaseContents),
    release('r2', 'shadow', changedGuardrails),
  );

  it('lets through shadow promotions, first releases and releases that change nothing that decides', async () => {
    const gate = new ReplayPromotionGate(new InMemoryReplayReports());
    await gate.check(manager, candidate, 'r2', 'shadow');
    await gate.check(manager, scope(release('r2', 'shadow', changedGuardrails)), 'r2', 'production');
    const templateOnly = { ...sampleReleaseContents, workflowTemplates: [] };
    await gate.check(
      manager,
      scope(release('r1', 'production', sampleReleaseContents), release('r2', 'shadow', templateOnly)),
      'r2',
      'production',
    );
    // Not in shadow: the lifecycle refuses it with its own reason.
    await gate.check(
      manager,
      scope(release('r1', 'production', sampleReleaseContents), release('r2', 'draft', changedGuardrails)),
      'r2',
      'production',
    );
  });

  it('requires a replay against the production in force, of exactly these versions', async () => {
    const reports = new InMemoryReplayReports();
    const gate = new ReplayPromotionGate(reports);
    expect((await refusal(gate.check(manager, candidate, 'r2', 'production'))).code).toBe('replay-required');
    await report(reports, true, { againstRelease: 'r0' });
    expect((await refusal(gate.check(manager, candidate, 'r2', 'production'))).code).toBe('replay-required');
    await report(reports, true, { candidate: { ...changedGuardrails, model: 'gpt-4o-mini' } });
    expect((await refusal(gate.check(manager, candidate, 'r2', 'production'))).code).toBe('replay-required');
    await report(reports, true);
    await gate.check(manager, candidate, 'r2', 'production');
  });

  it('blocks below the bar with the reasons, and lets an overridden report through', async () => {
    const reports = new InMemoryReplayReports();
    const gate = new ReplayPromotionGate(reports);
    const failed = await report(reports, false);
    const blocked = await refusal(gate.check(manager, candidate, 'r2', 'production'));
    expect(blocked.code).toBe('replay-gate-blocked');
    expect(blocked.message).toContain("agreement 50.0% is below the release's minimum 90.0%");
    expect(blocked.details).toMatchObject({ run: 1, reasons: failed.reasons });
    await reports.override(manager, failed, {
      by: 'root',
      reason: 'intended',
      at: '2026-12-01T11:00:00.000Z',
    });
    await gate.check(manager, candidate, 'r2', 'production');
  });
});
