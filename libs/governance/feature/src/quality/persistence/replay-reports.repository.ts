import { type ReleaseContents } from '@keel/contracts';
import { type ReplayGatePolicy, type ReplaySummary } from '@keel/governance-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** The versions a replay ran, so a report cannot vouch for other contents. */
export type ReplayedCandidate = Pick<ReleaseContents, 'agentPolicy' | 'prompt' | 'guardrailPolicy' | 'model'>;

export interface ReplayOverride {
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

/** One replay of a release against the production release then in force. */
export interface ReplayReport {
  readonly tenant: string;
  readonly releaseId: string;
  readonly run: number;
  /** The production release whose recorded decisions were replayed; undefined when none was in force. */
  readonly againstRelease?: string;
  readonly candidate: ReplayedCandidate;
  readonly policy: ReplayGatePolicy;
  readonly summary: ReplaySummary;
  readonly passed: boolean;
  readonly reasons: readonly string[];
  readonly runBy: string;
  readonly runAt: string;
  readonly override?: ReplayOverride;
}

/** The port: a release's replay reports; a report is written once, then only overridden. */
export interface ReplayReports {
  /** Stores the next run of the release's replay (numbered from 1). */
  add(manager: EntityManager, report: Omit<ReplayReport, 'run'>): Promise<ReplayReport>;
  latest(manager: EntityManager, tenant: string, releaseId: string): Promise<ReplayReport | undefined>;
  /** Marks a run overridden, once: false when it already was. */
  override(manager: EntityManager, report: ReplayReport, override: ReplayOverride): Promise<boolean>;
}

interface ReportRow {
  tenant: string;
  release_id: string;
  run: number;
  against_release: string | null;
  candidate: ReplayedCandidate;
  policy: ReplayGatePolicy;
  summary: ReplaySummary;
  passed: boolean;
  reasons: string[];
  run_by: string;
  run_at: Date;
  override_by: string | null;
  override_reason: string | null;
  override_at: Date | null;
}

/** `<schema>.replay_reports` in Postgres. */
export class PostgresReplayReports implements ReplayReports {
  private readonly table: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.table = `"${schema}"."replay_reports"`;
  }

  async add(manager: EntityManager, report: Omit<ReplayReport, 'run'>): Promise<ReplayReport> {
    // The caller holds the tenant's release scope locked, so no two runs of a release take the same number.
    const [row] = await manager.query<Array<{ run: number }>>(
      `INSERT INTO ${this.table}
         (tenant, release_id, run, against_release, candidate, policy, summary, passed, reasons, run_by, run_at)
       SELECT $1, $2, COALESCE(MAX(run), 0) + 1, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8::jsonb, $9, $10
       FROM ${this.table} WHERE tenant = $1 AND release_id = $2
       RETURNING run`,
      [
        report.tenant,
        report.releaseId,
        report.againstRelease ?? null,
        JSON.stringify(report.candidate),
        JSON.stringify(report.policy),
        JSON.stringify(report.summary),
        report.passed,
        JSON.stringify(report.reasons),
        report.runBy,
        report.runAt,
      ],
    );
    if (row === undefined) throw new Error('replay report insert returned no run');
    return { ...report, run: row.run };
  }

  async latest(manager: EntityManager, tenant: string, releaseId: string): Promise<ReplayReport | undefined> {
    const [row] = await manager.query<ReportRow[]>(
      `SELECT * FROM ${this.table} WHERE tenant = $1 AND release_id = $2 ORDER BY run DESC LIMIT 1`,
      [tenant, releaseId],
    );
    return row === undefined ? undefined : reportOf(row);
  }

  async override(manager: EntityManager, report: ReplayReport, override: ReplayOverride): Promise<boolean> {
    const rows = await manager.query<Array<{ run: number }>>(
      `UPDATE ${this.table} SET override_by = $4, override_reason = $5, override_at = $6
       WHERE tenant = $1 AND release_id = $2 AND run = $3 AND override_by IS NULL RETURNING run`,
      [report.tenant, report.releaseId, report.run, override.by, override.reason, override.at],
    );
    return rows.length === 1;
  }
}

function reportOf(row: ReportRow): ReplayReport {
  return {
    tenant: row.tenant,
    releaseId: row.release_id,
    run: row.run,
    ...(row.against_release === null ? {} : { againstRelease: row.against_release }),
    candidate: row.candidate,
    policy: row.policy,
    summary: row.summary,
    passed: row.passed,
    reasons: row.reasons,
    runBy: row.run_by,
    runAt: row.run_at.toISOString(),
    ...(row.override_by === null || row.override_reason === null || row.override_at === null
      ? {}
      : {
          override: { by: row.override_by, reason: row.override_reason, at: row.override_at.toISOString() },
        }),
  };
}
