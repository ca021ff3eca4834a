import type { EmbeddedIndexPersistence } from '@keel/retrieval-data-access';
import { type DocumentVersionEntry, type IndexedChunk, RetrievalError } from '@keel/retrieval-domain';
import type { DataSource, EntityManager } from 'typeorm';

interface DocumentRow {
  tenant: string;
  document_id: string;
  version: number;
  title: string;
  tags: string[];
}

interface ChunkRow {
  tenant: string;
  document_id: string;
  chunk_id: string;
  chunk_hash: string;
  text: string;
  heading_path: string[];
  dense: Buffer;
  sparse_indices: Buffer;
  sparse_values: Buffer;
}

/**
 * The embedded index's documents and chunks, both vectors included, in retrieval's schema: what the index is
 * rebuilt from at boot. All of its SQL lives here.
 */
export class EmbeddedIndexRepository {
  private readonly documents: string;
  private readonly chunks: string;

  constructor(schema: string) {
    this.documents = `"${schema}"."embedded_documents"`;
    this.chunks = `"${schema}"."embedded_chunks"`;
  }

  async loadAll(manager: EntityManager): Promise<DocumentVersionEntry[]> {
    const documents = await manager.query<DocumentRow[]>(
      `SELECT tenant, document_id, version, title, tags FROM ${this.documents}`,
    );
    const chunks = await manager.query<ChunkRow[]>(
      `SELECT tenant, document_id, chunk_id, chunk_hash, text, heading_path, dense, sparse_indices, sparse_values
         FROM ${this.chunks} ORDER BY tenant, document_id, ordinal`,
    );
    const byDocument = new Map<string, IndexedChunk[]>();
    for (const row of chunks) {
      const key = `${row.tenant}\u0000${row.document_id}`;
      let list = byDocument.get(key);
      if (list === undefined) {
        list = [];
        byDocument.set(key, list);
      }
      list.push({
        chunkId: row.chunk_id,
        chunkHash: row.chunk_hash,
        text: row.text,
        headingPath: row.heading_path,
        dense: readFloat32(row.dense),
        sparse: { indices: readUint32(row.sparse_indices), values: readFloat64(row.sparse_values) },
      });
    }
    return documents.map((row) => ({
      tenant: row.tenant,
      documentId: row.document_id,
      version: row.version,
      title: row.title,
      tags: row.tags,
      chunks: byDocument.get(`${row.tenant}\u0000${row.document_id}`) ?? [],
    }));
  }

  /** The document's version and chunks become these (its previous chunks go with their document row). */
  async replace(manager: EntityManager, entry: DocumentVersionEntry): Promise<void> {
    await this.delete(manager, entry.tenant, entry.documentId);
    await manager.query(
      `INSERT INTO ${this.documents} (tenant, document_id, version, title, tags) VALUES ($1, $2, $3, $4, $5)`,
      [entry.tenant, entry.documentId, entry.version, entry.title, JSON.stringify(entry.tags)],
    );
    if (entry.chunks.length === 0) return;
    // One statement for all the chunks: arrays unnested side by side.
    await manager.query(
      `INSERT INTO ${this.chunks}
         (tenant, document_id, ordinal, chunk_id, chunk_hash, text, heading_path, dense, sparse_indices, sparse_values)
       SELECT $1, $2, c.ordinal, c.chunk_id, c.chunk_hash, c.text, c.heading_path::jsonb, c.dense, c.sparse_indices,
              c.sparse_values
         FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::bytea[], $10::bytea[])
           AS c(ordinal, chunk_id, chunk_hash, text, heading_path, dense, sparse_indices, sparse_values)`,
      [
        entry.tenant,
        entry.documentId,
        entry.chunks.map((_, i) => i),
        entry.chunks.map((chunk) => chunk.chunkId),
        entry.chunks.map((chunk) => chunk.chunkHash),
        entry.chunks.map((chunk) => chunk.text),
        entry.chunks.map((chunk) => JSON.stringify(chunk.headingPath)),
        entry.chunks.map((chunk) => writeFloat32(chunk.dense)),
        entry.chunks.map((chunk) => writeUint32(chunk.sparse.indices)),
        entry.chunks.map((chunk) => writeFloat64(chunk.sparse.values)),
      ],
    );
  }

  async delete(manager: EntityManager, tenant: string, documentId: string): Promise<void> {
    await manager.query(`DELETE FROM ${this.documents} WHERE tenant = $1 AND document_id = $2`, [
      tenant,
      documentId,
    ]);
  }
}

/** The embedded index's persistence over the repository: each call its own committed transaction. */
export class PostgresEmbeddedIndexPersistence implements EmbeddedIndexPersistence {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: EmbeddedIndexRepository,
  ) {}

  load(): Promise<DocumentVersionEntry[]> {
    return unavailableOnFailure('loading the embedded index', () =>
      this.repository.loadAll(this.dataSource.manager),
    );
  }

  saveVersion(entry: DocumentVersionEntry): Promise<void> {
    return unavailableOnFailure('saving a document version of the embedded index', () =>
      this.dataSource.transaction((manager) => this.repository.replace(manager, entry)),
    );
  }

  deleteDocument(tenant: string, documentId: string): Promise<void> {
    return unavailableOnFailure('deleting a document of the embedded index', () =>
      this.dataSource.transaction((manager) => this.repository.delete(manager, tenant, documentId)),
    );
  }
}

// A Postgres failure is the store being unavailable: retried by the inbox, 503 on the API.
export async function unavailableOnFailure<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new RetrievalError('vector-store-unavailable', `${what} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function writeFloat32(values: readonly number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buffer.writeFloatLE(value, i * 4));
  return buffer;
}

function writeUint32(values: readonly number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buffer.writeUInt32LE(value, i * 4));
  return buffer;
}

function writeFloat64(values: readonly number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => buffer.writeDoubleLE(value, i * 8));
  return buffer;
}

function readFloat32(buffer: Buffer): number[] {
  return Array.from({ length: buffer.length / 4 }, (_, i) => buffer.readFloatLE(i * 4));
}

function readUint32(buffer: Buffer): number[] {
  return Array.from({ length: buffer.length / 4 }, (_, i) => buffer.readUInt32LE(i * 4));
}

function readFloat64(buffer: Buffer): number[] {
  return Array.from({ length: buffer.length / 8 }, (_, i) => buffer.readDoubleLE(i * 8));
}
