import { type Role } from '@keel/access';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** A machine client's key as stored: never the secret, only its hash. */
export interface StoredApiKey {
  readonly id: string;
  readonly tenant: string;
  /** Who the tokens minted from it are for, e.g. `erp-connector`. */
  readonly client: string;
  readonly roles: readonly Role[];
  readonly secretHash: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly revoked: boolean;
}

/** The port: API keys by id. */
export interface ApiKeys {
  insert(manager: EntityManager, key: StoredApiKey): Promise<void>;
  find(manager: EntityManager, id: string): Promise<StoredApiKey | undefined>;
}

interface ApiKeyRow {
  id: string;
  tenant: string;
  client: string;
  roles: Role[];
  secret_hash: string;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
}

/** `<schema>.api_keys` in Postgres. */
export class PostgresApiKeys implements ApiKeys {
  private readonly table: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.table = `"${schema}"."api_keys"`;
  }

  async insert(manager: EntityManager, key: StoredApiKey): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.table} (id, tenant, client, roles, secret_hash, created_by, created_at)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7)`,
      [key.id, key.tenant, key.client, key.roles, key.secretHash, key.createdBy, key.createdAt],
    );
  }

  async find(manager: EntityManager, id: string): Promise<StoredApiKey | undefined> {
    const [row] = await manager.query<ApiKeyRow[]>(
      `SELECT id, tenant, client, roles, secret_hash, created_by, created_at, revoked_at FROM ${this.table} WHERE id = $1`,
      [id],
    );
    if (row === undefined) return undefined;
    return {
      id: row.id,
      tenant: row.tenant,
      client: row.client,
      roles: row.roles,
      secretHash: row.secret_hash,
      createdBy: row.created_by,
      createdAt: row.created_at.toISOString(),
      revoked: row.revoked_at !== null,
    };
  }
}
