import { type ReleaseContents } from '@keel/contracts';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';
import { type AppliedRelease, type ReleaseArtifact, type ReleaseStage, type ReleasesInForce } from './release';

/** The releases in force in one tenant and the sequence of the last step applied (0: none yet). */
export interface ReleaseState extends ReleasesInForce {
  readonly appliedThrough: number;
}

/** The port: the releases a service applied, in its own schema. */
export interface AppliedReleases {
  /** Serialises appliers of one tenant (replicas, a rebalance's zombie) until the transaction ends. */
  lock(manager: EntityManager, tenant: string): Promise<void>;
  state(manager: EntityManager, tenant: string): Promise<ReleaseState>;
  /**
   * Puts a release in force at its stage and logs the step. A release reaching production leaves the shadow
   * stage if it was there.
   */
  record(manager: EntityManager, release: AppliedRelease): Promise<void>;
  /** The sequence of the last step applied: one indexed read, for replicas polling for a change. */
  appliedThrough(manager: EntityManager, tenant: string): Promise<number>;
}

interface InForceRow {
  stage: ReleaseStage;
  release_id: string;
  sequence: string;
  contents: ReleaseContents;
  artifacts: ReleaseArtifact[];
  applied_at: Date;
}

/** `<schema>.releases_in_force` and `<schema>.release_applications` in Postgres. */
export class PostgresAppliedReleases implements AppliedReleases {
  private readonly inForce: string;
  private readonly applications: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.inForce = `"${schema}"."releases_in_force"`;
    this.applications = `"${schema}"."release_applications"`;
  }

  async lock(manager: EntityManager, tenant: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `${this.applications}/${tenant}`,
    ]);
  }

  async state(manager: EntityManager, tenant: string): Promise<ReleaseState> {
    const rows = await manager.query<InForceRow[]>(
      `SELECT stage, release_id, sequence, contents, artifacts, applied_at FROM ${this.inForce} WHERE tenant = $1`,
      [tenant],
    );
    const appliedThrough = await this.appliedThrough(manager, tenant);
    const applied = (stage: ReleaseStage): AppliedRelease | undefined => {
      const row = rows.find((candidate) => candidate.stage === stage);
      return (
        row && {
          id: row.release_id,
          tenant,
          stage,
          sequence: Number(row.sequence),
          contents: row.contents,
          artifacts: row.artifacts,
          appliedAt: row.applied_at,
        }
      );
    };
    const production = applied('production');
    const shadow = applied('shadow');
    return {
      appliedThrough,
      ...(production === undefined ? {} : { production }),
      ...(shadow === undefined ? {} : { shadow }),
    };
  }

  async record(manager: EntityManager, release: AppliedRelease): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.applications} (tenant, sequence, stage, release_id, applied_at) VALUES ($1, $2, $3, $4, $5)`,
      [release.tenant, release.sequence, release.stage, release.id, release.appliedAt],
    );
    await manager.query(
      `INSERT INTO ${this.inForce} (tenant, stage, release_id, sequence, contents, artifacts, applied_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)
       ON CONFLICT (tenant, stage) DO UPDATE SET release_id = EXCLUDED.release_id, sequence = EXCLUDED.sequence,
         contents = EXCLUDED.contents, artifacts = EXCLUDED.artifacts, applied_at = EXCLUDED.applied_at`,
      [
        release.tenant,
        release.stage,
        release.id,
        release.sequence,
        JSON.stringify(release.contents),
        JSON.stringify(release.artifacts),
        release.appliedAt,
      ],
    );
    if (release.stage === 'production') {
      await manager.query(
        `DELETE FROM ${this.inForce} WHERE tenant = $1 AND stage = 'shadow' AND release_id = $2`,
        [release.tenant, release.id],
      );
    }
  }

  async appliedThrough(manager: EntityManager, tenant: string): Promise<number> {
    const [row] = await manager.query<Array<{ sequence: string | null }>>(
      `SELECT max(sequence) AS sequence FROM ${this.applications} WHERE tenant = $1`,
      [tenant],
    );
    return row?.sequence === null || row?.sequence === undefined ? 0 : Number(row.sequence);
  }
}
