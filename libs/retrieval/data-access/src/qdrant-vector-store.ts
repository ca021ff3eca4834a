import { createHash } from 'node:crypto';
import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import {
  type ChunkFilter,
  type ChunkQuery,
  type DocumentVersionEntry,
  RetrievalError,
  type RetrievedChunk,
  type SparseVector,
  type VectorStore,
} from '@keel/retrieval-domain';
import { z } from 'zod';

export interface QdrantVectorStoreOptions {
  readonly collection: string;
  readonly dimensions: number;
  /** Points per upsert request. */
  readonly upsertBatchSize?: number;
}

// Vector names in the collection; the sparse one carries BM25 weights, IDF applied by Qdrant.
const denseVector = 'dense';
const sparseVector = 'bm25';

const chunkPayloadSchema = z.object({
  tenant: z.string(),
  documentId: z.string(),
  version: z.number().int(),
  chunkId: z.string(),
  chunkHash: z.string(),
  text: z.string(),
  title: z.string(),
  headingPath: z.array(z.string()),
  tags: z.array(z.string()),
});
type ChunkPayload = z.infer<typeof chunkPayloadSchema>;

type Condition = Record<string, unknown>;

/**
 * The Qdrant vector store: one collection with a named dense vector (cosine) and a named sparse BM25 vector
 * (`modifier: 'idf'`), the tenant payload indexed with `is_tenant`, hybrid search through the Query API
 * (a prefetch per retriever, each with the full filter, fused by RRF).
 *
 * Replacing a version is two requests — upsert the new points, then delete the document's points of other
 * versions — so for that moment a search may see both versions; Qdrant has no multi-request transaction.
 */
export class QdrantVectorStore implements VectorStore {
  private readonly batchSize: number;

  constructor(
    private readonly client: QdrantClient,
    private readonly options: QdrantVectorStoreOptions,
  ) {
    this.batchSize = options.upsertBatchSize ?? 64;
  }

  // Every failure of the server or the network is one retryable error for the callers.
  private async request<T>(operation: string, call: (client: QdrantClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.client);
    } catch (error) {
      throw new RetrievalError(
        'vector-store-unavailable',
        `Qdrant ${operation} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async prepare(): Promise<void> {
    const { collection } = this.options;
    if ((await this.request('collectionExists', (client) => client.collectionExists(collection))).exists)
      return;
    await this.request('createCollection', (client) =>
      client.createCollection(collection, {
        vectors: { [denseVector]: { size: this.options.dimensions, distance: 'Cosine' } },
        sparse_vectors: { [sparseVector]: { modifier: 'idf' } },
      }),
    );
    await this.request('createPayloadIndex', (client) =>
      client.createPayloadIndex(collection, {
        field_name: 'tenant',
        field_schema: { type: 'keyword', is_tenant: true },
        wait: true,
      }),
    );
    for (const [field, schema] of [
      ['documentId', 'keyword'],
      ['version', 'integer'],
      ['tags', 'keyword'],
    ] as const) {
      await this.request('createPayloadIndex', (client) =>
        client.createPayloadIndex(collection, { field_name: field, field_schema: schema, wait: true }),
      );
    }
  }

  async replaceDocumentVersion(entry: DocumentVersionEntry): Promise<void> {
    const points = entry.chunks.map((chunk) => {
      const payload: ChunkPayload = {
        tenant: entry.tenant,
        documentId: entry.documentId,
        version: entry.version,
        chunkId: chunk.chunkId,
        chunkHash: chunk.chunkHash,
        text: chunk.text,
        title: entry.title,
        headingPath: [...chunk.headingPath],
        tags: [...entry.tags],
      };
      return {
        id: pointIdOf(entry.tenant, chunk.chunkId),
        vector: { [denseVector]: [...chunk.dense], [sparseVector]: sparseOf(chunk.sparse) },
        payload,
      };
    });
    for (let start = 0; start < points.length; start += this.batchSize) {
      await this.request('upsert', (client) =>
        client.upsert(this.options.collection, {
          wait: true,
          points: points.slice(start, start + this.batchSize),
        }),
      );
    }
    await this.request('delete', (client) =>
      client.delete(this.options.collection, {
        wait: true,
        filter: {
          must: [matchValue('tenant', entry.tenant), matchValue('documentId', entry.documentId)],
          must_not: [matchValue('version', entry.version)],
        },
      }),
    );
  }

  async deleteDocument(tenant: string, documentId: string): Promise<void> {
    await this.request('delete', (client) =>
      client.delete(this.options.collection, {
        wait: true,
        filter: { must: [matchValue('tenant', tenant), matchValue('documentId', documentId)] },
      }),
    );
  }

  async query(query: ChunkQuery): Promise<RetrievedChunk[]> {
    const filter = filterOf(query.tenant, query.filter);
    const dense = () => ({ query: [...required(query.dense, 'dense')], using: denseVector });
    const sparse = () => ({ query: sparseOf(required(query.sparse, 'sparse')), using: sparseVector });
    const common = { limit: query.limit, with_payload: true, with_vector: false };
    let response;
    switch (query.mode) {
      case 'dense':
        response = await this.request('query', (client) =>
          client.query(this.options.collection, { ...dense(), filter, ...common }),
        );
        break;
      case 'sparse':
        if (required(query.sparse, 'sparse').indices.length === 0) return [];
        response = await this.request('query', (client) =>
          client.query(this.options.collection, { ...sparse(), filter, ...common }),
        );
        break;
      case 'hybrid': {
        // A query of stopwords only has no sparse vector to search with; Qdrant refuses an empty one.
        const prefetch: Schemas['Prefetch'][] = [{ ...dense(), filter, limit: query.prefetchLimit }];
        if (required(query.sparse, 'sparse').indices.length > 0)
          prefetch.push({ ...sparse(), filter, limit: query.prefetchLimit });
        response = await this.request('query', (client) =>
          client.query(this.options.collection, { prefetch, query: { fusion: 'rrf' }, ...common }),
        );
        break;
      }
    }
    return response.points.map((point) => {
      const payload = chunkPayloadSchema.parse(point.payload);
      return {
        documentId: payload.documentId,
        version: payload.version,
        chunkId: payload.chunkId,
        chunkHash: payload.chunkHash,
        score: point.score,
        text: payload.text,
        title: payload.title,
        headingPath: payload.headingPath,
        tags: payload.tags,
      };
    });
  }
}

/** Qdrant point ids are UUIDs or integers: a chunk's is the UUID-shaped sha-256 of tenant and chunk id. */
export function pointIdOf(tenant: string, chunkId: string): string {
  const hex = createHash('sha256').update(`${tenant}\u0000${chunkId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined)
    throw new RetrievalError('invalid-request', `this query mode needs a ${name} query vector`);
  return value;
}

function sparseOf(vector: SparseVector): { indices: number[]; values: number[] } {
  return { indices: [...vector.indices], values: [...vector.values] };
}

function matchValue(key: string, value: string | number): Condition {
  return { key, match: { value } };
}

// Every condition goes on each prefetch: Qdrant does not carry a top-level filter into prefetches.
function filterOf(tenant: string, filter: ChunkFilter): { must: Condition[] } {
  const must: Condition[] = [matchValue('tenant', tenant)];
  if (filter.documentIds) must.push({ key: 'documentId', match: { any: [...filter.documentIds] } });
  if (filter.versions) {
    must.push({
      should: filter.versions.map((pin) => ({
        must: [matchValue('documentId', pin.documentId), matchValue('version', pin.version)],
      })),
    });
  }
  for (const tag of filter.tags ?? []) must.push(matchValue('tags', tag));
  return { must };
}
