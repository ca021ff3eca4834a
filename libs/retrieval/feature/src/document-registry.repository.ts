import type { IndexedVersion } from '@keel/retrieval-domain';
import type { EntityManager } from 'typeorm';

export interface RegisteredDocument extends IndexedVersion {
  readonly chunkCount: number;
  readonly deleted: boolean;
}

interface DocumentRow {
  version: number;
  content_hash: string;
  chunk_count: number;
  deleted_at: Date | null;
}

/**
 * Which version of each tenant's document the index holds: the registry the knowledge inbox decides against.
 * All of retrieval's SQL lives here, in the schema it is given.
 */
export class DocumentRegistryRepository {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${schema}"."documents"`;
  }

  /** The document's row, locked for this transaction, so two versions of one document never index at once. */
  async lock(
    manager: EntityManager,
    tenant: string,
    documentId: string,
  ): Promise<RegisteredDocument | undefined> {
    const rows = await manager.query<DocumentRow[]>(
      `SELECT version, content_hash, chunk_count, deleted_at FROM ${this.table}
        WHERE tenant = $1 AND document_id = $2 FOR UPDATE`,
      [tenant, documentId],
    );
    const row = rows[0];
    return row
      ? {
          version: row.version,
          contentHash: row.content_hash,
          chunkCount: row.chunk_count,
          deleted: row.deleted_at !== null,
        }
      : undefined;
  }

  async recordIndexed(
    manager: EntityManager,
    document: {
      tenant: string;
      documentId: string;
      version: number;
      contentHash: string;
      title: string;
      chunkCount: number;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.table} (tenant, document_id, version, content_hash, title, chunk_count, indexed_at, deleted_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), NULL)
       ON CONFLICT (tenant, document_id) DO UPDATE SET
         version = EXCLUDED.version, content_hash = EXCLUDED.content_hash, title = EXCLUDED.title,
         chunk_count = EXCLUDED.chunk_count, indexed_at = EXCLUDED.indexed_at, deleted_at = NULL`,
      [
        document.tenant,
        document.documentId,
        document.version,
        document.contentHash,
        document.title,
        document.chunkCount,
      ],
    );
  }

  /** Marks the document deleted; its version stays, so an older version arriving late is still refused. */
  async recordDeleted(manager: EntityManager, tenant: string, documentId: string): Promise<boolean> {
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, count], a SELECT with its rows.
    const [{ deleted }] = await manager.query<{ deleted: number }[]>(
      `WITH marked AS (
         UPDATE ${this.table} SET deleted_at = now(), chunk_count = 0
          WHERE tenant = $1 AND document_id = $2 AND deleted_at IS NULL RETURNING 1)
       SELECT count(*)::int AS deleted FROM marked`,
      [tenant, documentId],
    );
    return deleted > 0;
  }
}
