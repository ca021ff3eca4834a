import { type DriftReport } from '@keel/governance-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** One look of the drift monitor at a production release. */
export interface DriftEvaluation {
  readonly tenant: string;
  readonly releaseId: string;
  /** The agent and guardrail policy versions judged, e.g. `support-agent@2+guardrails@1`. */
  readonly version: string;
  readonly evaluatedAt: string;
  readonly breached: boolean;
  readonly rolledBack: boolean;
  readonly report: DriftReport;
}

/** The port: the drift monitor's evaluations, appended. */
export interface DriftEvaluations {
  add(manager: EntityManager, evaluation: DriftEvaluation): Promise<void>;
  /** The newest evaluation of a release, or of the tenant's releases when `releaseId` is undefined. */
  latest(manager: EntityManager, tenant: string, releaseId?: string): Promise<DriftEvaluation | undefined>;
}

interface EvaluationRow {
  tenant: string;
  release_id: string;
  version: string;
  evaluated_at: Date;
  breached: boolean;
  rolled_back: boolean;
  report: DriftReport;
}

/** `<schema>.drift_evaluations` in Postgres. */
export class PostgresDriftEvaluations implements DriftEvaluations {
  private readonly table: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.table = `"${schema}"."drift_evaluations"`;
  }

  async add(manager: EntityManager, evaluation: DriftEvaluation): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.table} (tenant, release_id, version, evaluated_at, breached, rolled_back, report)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [
        evaluation.tenant,
        evaluation.releaseId,
        evaluation.version,
        evaluation.evaluatedAt,
        evaluation.breached,
        evaluation.rolledBack,
        JSON.stringify(evaluation.report),
      ],
    );
  }

  async latest(
    manager: EntityManager,
    tenant: string,
    releaseId?: string,
  ): Promise<DriftEvaluation | undefined> {
    const [row] = await manager.query<EvaluationRow[]>(
      `SELECT tenant, release_id, version, evaluated_at, breached, rolled_back, report FROM ${this.table}
       WHERE tenant = $1 AND ($2::text IS NULL OR release_id = $2) ORDER BY id DESC LIMIT 1`,
      [tenant, releaseId ?? null],
    );
    return row === undefined
      ? undefined
      : {
          tenant: row.tenant,
          releaseId: row.release_id,
          version: row.version,
          evaluatedAt: row.evaluated_at.toISOString(),
          breached: row.breached,
          rolledBack: row.rolled_back,
          report: row.report,
        };
  }
}
