import { type ArtifactKind, type ArtifactVersion, type JsonValue } from '@keel/governance-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** One artifact of a tenant's registry with its newest version. */
export interface ArtifactSummary {
  readonly kind: ArtifactKind;
  readonly name: string;
  readonly latestVersion: number;
  readonly contentHash: string;
}

/** The port: a tenant's immutable artifact versions. */
export interface ArtifactVersions {
  /** The newest version, locked until the transaction ends so two authors cannot both create version n + 1. */
  latestForUpdate(
    manager: EntityManager,
    tenant: string,
    kind: ArtifactKind,
    name: string,
  ): Promise<ArtifactVersion | undefined>;
  insert(manager: EntityManager, version: ArtifactVersion): Promise<void>;
  get(
    manager: EntityManager,
    tenant: string,
    kind: ArtifactKind,
    name: string,
    version: number,
  ): Promise<ArtifactVersion | undefined>;
  versionsOf(
    manager: EntityManager,
    tenant: string,
    kind: ArtifactKind,
    name: string,
  ): Promise<ArtifactVersion[]>;
  list(manager: EntityManager, tenant: string): Promise<ArtifactSummary[]>;
}

interface VersionRow {
  tenant: string;
  kind: ArtifactKind;
  name: string;
  version: number;
  content_hash: string;
  content: JsonValue;
  author: string;
  created_at: Date;
}

const columns = 'tenant, kind, name, version, content_hash, content, author, created_at';

/** `<schema>.artifact_versions` in Postgres: rows are inserted, never updated. */
export class PostgresArtifactVersions implements ArtifactVersions {
  private readonly table: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.table = `"${schema}"."artifact_versions"`;
  }

  async latestForUpdate(manager: EntityManager, tenant: string, kind: ArtifactKind, name: string) {
    // Serialises registrations of one artifact, including its first version (no row to lock yet).
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [
      `${this.table}/${tenant}/${kind}/${name}`,
    ]);
    const rows = await manager.query<VersionRow[]>(
      `SELECT ${columns} FROM ${this.table} WHERE tenant = $1 AND kind = $2 AND name = $3 ORDER BY version DESC LIMIT 1`,
      [tenant, kind, name],
    );
    return rows[0] === undefined ? undefined : versionOf(rows[0]);
  }

  async insert(manager: EntityManager, version: ArtifactVersion): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.table} (${columns}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
      [
        version.tenant,
        version.kind,
        version.name,
        version.version,
        version.contentHash,
        JSON.stringify(version.content),
        version.author,
        version.createdAt,
      ],
    );
  }

  async get(manager: EntityManager, tenant: string, kind: ArtifactKind, name: string, version: number) {
    const rows = await manager.query<VersionRow[]>(
      `SELECT ${columns} FROM ${this.table} WHERE tenant = $1 AND kind = $2 AND name = $3 AND version = $4`,
      [tenant, kind, name, version],
    );
    return rows[0] === undefined ? undefined : versionOf(rows[0]);
  }

  async versionsOf(manager: EntityManager, tenant: string, kind: ArtifactKind, name: string) {
    const rows = await manager.query<VersionRow[]>(
      `SELECT ${columns} FROM ${this.table} WHERE tenant = $1 AND kind = $2 AND name = $3 ORDER BY version`,
      [tenant, kind, name],
    );
    return rows.map(versionOf);
  }

  async list(manager: EntityManager, tenant: string): Promise<ArtifactSummary[]> {
    const rows = await manager.query<
      Array<{ kind: ArtifactKind; name: string; version: number; content_hash: string }>
    >(
      `SELECT DISTINCT ON (kind, name) kind, name, version, content_hash FROM ${this.table}
       WHERE tenant = $1 ORDER BY kind, name, version DESC`,
      [tenant],
    );
    return rows.map((row) => ({
      kind: row.kind,
      name: row.name,
      latestVersion: row.version,
      contentHash: row.content_hash,
    }));
  }
}

function versionOf(row: VersionRow): ArtifactVersion {
  return {
    tenant: row.tenant,
    kind: row.kind,
    name: row.name,
    version: row.version,
    contentHash: row.content_hash,
    content: row.content,
    author: row.author,
    createdAt: row.created_at.toISOString(),
  };
}
