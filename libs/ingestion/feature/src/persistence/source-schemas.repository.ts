import type { EntityManager } from 'typeorm';

/** One source schema version ingestion admits against, as stored. */
export interface StoredSourceSchema {
  readonly system: string;
  readonly version: number;
  readonly content: unknown;
  /** sha-256 of the content's canonical JSON (governance's hash for adopted versions). */
  readonly contentHash: string;
  readonly origin: 'bundled' | 'governance';
  /** The registry version (of artifact `event-schema/<system>`) it was adopted from. */
  readonly registryVersion?: number;
}

/** What adopting a version did: stored now, already held with that content, or held with other content. */
export type Adoption = 'adopted' | 'known' | 'conflict';

export interface SourceSchemas {
  /** Stores `seed` when the table is empty (a fresh install); how many rows it wrote. */
  seedIfEmpty(manager: EntityManager, seed: readonly StoredSourceSchema[]): Promise<number>;
  all(manager: EntityManager): Promise<StoredSourceSchema[]>;
  /** How many versions are stored: rows are only added, so a change in it is a change in the set. */
  count(manager: EntityManager): Promise<number>;
  adopt(manager: EntityManager, schema: StoredSourceSchema): Promise<Adoption>;
  /** The newest registry version adopted per system: where following the registry resumes. */
  registryCursor(manager: EntityManager): Promise<Map<string, number>>;
}

interface Row {
  system: string;
  version: number;
  content: unknown;
  content_hash: string;
  origin: 'bundled' | 'governance';
  registry_version: number | null;
}

export class PostgresSourceSchemas implements SourceSchemas {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${schema}"."source_schemas"`;
  }

  async seedIfEmpty(manager: EntityManager, seed: readonly StoredSourceSchema[]): Promise<number> {
    // Replicas booting together: one seeds, the others find it done (the lock ends with the transaction).
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [this.table]);
    const [{ n }] = await manager.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM ${this.table}`);
    if (n > 0 || seed.length === 0) return 0;
    await manager.query(
      `INSERT INTO ${this.table} (system, version, content, content_hash, origin)
       SELECT s, v, c, h, 'bundled' FROM unnest($1::text[], $2::int[], $3::jsonb[], $4::text[]) AS t(s, v, c, h)`,
      [
        seed.map((schema) => schema.system),
        seed.map((schema) => schema.version),
        seed.map((schema) => JSON.stringify(schema.content)),
        seed.map((schema) => schema.contentHash),
      ],
    );
    return seed.length;
  }

  async all(manager: EntityManager): Promise<StoredSourceSchema[]> {
    const rows = await manager.query<Row[]>(
      `SELECT system, version, content, content_hash, origin, registry_version FROM ${this.table}
       ORDER BY system, version`,
    );
    return rows.map((row) => ({
      system: row.system,
      version: row.version,
      content: row.content,
      contentHash: row.content_hash,
      origin: row.origin,
      ...(row.registry_version === null ? {} : { registryVersion: row.registry_version }),
    }));
  }

  async count(manager: EntityManager): Promise<number> {
    const [{ n }] = await manager.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM ${this.table}`);
    return n;
  }

  async adopt(manager: EntityManager, schema: StoredSourceSchema): Promise<Adoption> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO ${this.table} (system, version, content, content_hash, origin, registry_version)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6)
       ON CONFLICT (system, version) DO NOTHING RETURNING system`,
      [
        schema.system,
        schema.version,
        JSON.stringify(schema.content),
        schema.contentHash,
        schema.origin,
        schema.registryVersion ?? null,
      ],
    );
    if (inserted.length > 0) return 'adopted';
    const [held] = await manager.query<Array<{ content_hash: string }>>(
      `SELECT content_hash FROM ${this.table} WHERE system = $1 AND version = $2`,
      [schema.system, schema.version],
    );
    return held?.content_hash === schema.contentHash ? 'known' : 'conflict';
  }

  async registryCursor(manager: EntityManager): Promise<Map<string, number>> {
    const rows = await manager.query<Array<{ system: string; version: number }>>(
      `SELECT system, max(registry_version)::int AS version FROM ${this.table}
       WHERE registry_version IS NOT NULL GROUP BY system`,
    );
    return new Map(rows.map((row) => [row.system, row.version]));
  }
}
