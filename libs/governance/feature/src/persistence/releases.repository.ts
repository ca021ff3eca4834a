import {
  type Release,
  type ReleaseScope,
  type ReleaseState,
  type ReleaseStep,
} from '@keel/governance-domain';
import { type ReleaseContents } from '@keel/contracts';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** The port: a tenant's releases, read and written as one scope under a lock. */
export interface Releases {
  /** The tenant's releases and production line, locked until the transaction ends: one change at a time. */
  lockScope(manager: EntityManager, tenant: string): Promise<ReleaseScope>;
  /** Writes the releases that changed and the scope's production line. */
  save(manager: EntityManager, scope: ReleaseScope, changed: readonly Release[]): Promise<void>;
  list(manager: EntityManager, tenant: string): Promise<Release[]>;
}

interface ReleaseRow {
  tenant: string;
  id: string;
  author: string;
  state: ReleaseState;
  approved_by: string | null;
  contents: ReleaseContents;
  history: ReleaseStep[];
}

/** `<schema>.releases` and `<schema>.release_scopes` in Postgres. */
export class PostgresReleases implements Releases {
  private readonly releases: string;
  private readonly scopes: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.releases = `"${schema}"."releases"`;
    this.scopes = `"${schema}"."release_scopes"`;
  }

  async lockScope(manager: EntityManager, tenant: string): Promise<ReleaseScope> {
    await manager.query(`INSERT INTO ${this.scopes} (tenant) VALUES ($1) ON CONFLICT (tenant) DO NOTHING`, [
      tenant,
    ]);
    const [scope] = await manager.query<Array<{ production_line: string[] }>>(
      `SELECT production_line FROM ${this.scopes} WHERE tenant = $1 FOR UPDATE`,
      [tenant],
    );
    const releases = await this.list(manager, tenant);
    return {
      tenant,
      releases: Object.fromEntries(releases.map((release) => [release.id, release])),
      productionLine: scope?.production_line ?? [],
    };
  }

  async save(manager: EntityManager, scope: ReleaseScope, changed: readonly Release[]): Promise<void> {
    for (const release of changed) {
      await manager.query(
        `INSERT INTO ${this.releases} (tenant, id, author, state, approved_by, contents, history)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)
         ON CONFLICT (tenant, id) DO UPDATE SET state = EXCLUDED.state, approved_by = EXCLUDED.approved_by,
           history = EXCLUDED.history`,
        [
          release.tenant,
          release.id,
          release.author,
          release.state,
          release.approvedBy ?? null,
          JSON.stringify(release.contents),
          JSON.stringify(release.history),
        ],
      );
    }
    await manager.query(`UPDATE ${this.scopes} SET production_line = $2::jsonb WHERE tenant = $1`, [
      scope.tenant,
      JSON.stringify(scope.productionLine),
    ]);
  }

  async list(manager: EntityManager, tenant: string): Promise<Release[]> {
    const rows = await manager.query<ReleaseRow[]>(
      `SELECT tenant, id, author, state, approved_by, contents, history FROM ${this.releases}
       WHERE tenant = $1 ORDER BY id`,
      [tenant],
    );
    return rows.map((row) => ({
      id: row.id,
      tenant: row.tenant,
      author: row.author,
      contents: row.contents,
      state: row.state,
      ...(row.approved_by === null ? {} : { approvedBy: row.approved_by }),
      history: row.history,
    }));
  }
}
