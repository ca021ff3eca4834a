import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { sameTransition, type VersionTransition, type VersionTransitions } from './version-transitions';

export interface QdrantVectorStoreOptions {
  readonly collection: string;
  readonly dimensions: number;
  /** Points per upsert request. */
  readonly upsertBatchSize?: number;
  /** Documents in transition, shared by every process searching the collection (see the class comment). */
  readonly transitions: VersionTransitions;
  /**
   * How long replaced points stay after a version switch before they are deleted, and the longest a search
   * may take (from reading the transitions to Qdrant's answer) before it is run again. Default 5 s.
   */
  readonly graceMs?: number;
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
 * Re-indexing is atomic to searches although Qdrant has no multi-request transaction (versioned points):
 * 1. the new version's points are upserted with `staged: true`, which every search excludes;
 * 2. the document's transition `switched` to the new version is recorded (`VersionTransitions`): from then on
 *    searches see that version of the document only, staged or not — this is the one atomic step;
 * 3. after `graceMs`, in the background, the other versions' points are deleted, the new ones published
 *    (`staged: false`) and the transition settled. A search reads the transitions first and is run again if
 *    it took longer than `graceMs`, so no search that read the state before the switch is still running when
 *    the old points go: whatever the interleaving, it sees the old version whole or the new one whole.
 * Deletion is the same with a `deleted` transition (nothing of the document is seen). A document's next write
 * waits for its pending clean-up; `prepare` finishes the clean-ups a stopped process left.
 */
export class QdrantVectorStore implements VectorStore {
  private readonly batchSize: number;
  private readonly graceMs: number;
  // A document's pending clean-up, by tenant and document: its next write waits for it.
  private readonly cleanups = new Map<string, Promise<void>>();

  constructor(
    private readonly client: QdrantClient,
    private readonly options: QdrantVectorStoreOptions,
  ) {
    this.batchSize = options.upsertBatchSize ?? 64;
    this.graceMs = options.graceMs ?? 5000;
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
    await this.createCollection();
    for (const { tenant, transition } of await this.options.transitions.all()) {
      this.scheduleCleanup(tenant, transition);
    }
  }

  /** Waits for every pending clean-up (old points deleted, new ones published). */
  async close(): Promise<void> {
    while (this.cleanups.size > 0) await Promise.all(this.cleanups.values());
  }

  private async createCollection(): Promise<void> {
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
      ['staged', 'bool'],
    ] as const) {
      await this.request('createPayloadIndex', (client) =>
        client.createPayloadIndex(collection, { field_name: field, field_schema: schema, wait: true }),
      );
    }
  }

  async replaceDocumentVersion(entry: DocumentVersionEntry): Promise<void> {
    await this.cleanups.get(documentKey(entry.tenant, entry.documentId));
    const points = entry.chunks.map((chunk) => {
      const payload: ChunkPayload & { staged: boolean } = {
        tenant: entry.tenant,
        documentId: entry.documentId,
        version: entry.version,
        chunkId: chunk.chunkId,
        chunkHash: chunk.chunkHash,
        text: chunk.text,
        title: entry.title,
        headingPath: [...chunk.headingPath],
        tags: [...entry.tags],
        staged: true,
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
    await this.transition(entry.tenant, {
      documentId: entry.documentId,
      state: 'switched',
      version: entry.version,
    });
  }

  async deleteDocument(tenant: string, documentId: string): Promise<void> {
    await this.cleanups.get(documentKey(tenant, documentId));
    await this.transition(tenant, { documentId, state: 'deleted' });
  }

  private async transition(tenant: string, transition: VersionTransition): Promise<void> {
    try {
      await this.options.transitions.record(tenant, transition);
    } catch (error) {
      throw new RetrievalError('vector-store-unavailable', 'recording a version transition failed', {
        cause: error,
      });
    }
    this.scheduleCleanup(tenant, transition);
  }

  // A failed clean-up leaves its transition recorded, so searches stay right; the document's next write or
  // the next `prepare` cleans up again.
  private scheduleCleanup(tenant: string, transition: VersionTransition): void {
    const key = documentKey(tenant, transition.documentId);
    const cleanup = (this.cleanups.get(key) ?? Promise.resolve())
      // Unref'd: a stopping process does not wait for it; the recorded transition lets `prepare` finish it.
      .then(() => sleep(this.graceMs, undefined, { ref: false }))
      .then(() => this.cleanUp(tenant, transition))
      .catch(() => undefined)
      .finally(() => {
        if (this.cleanups.get(key) === cleanup) this.cleanups.delete(key);
      });
    this.cleanups.set(key, cleanup);
  }

  // Only while the transition is still recorded (a process finishing another's at boot may come late), and
  // only older versions: a later version of the document, switched since, is never touched.
  private async cleanUp(tenant: string, transition: VersionTransition): Promise<void> {
    const recorded = await this.options.transitions.ofTenant(tenant);
    if (!recorded.some((current) => sameTransition(current, transition))) return;
    const { collection } = this.options;
    const document = [matchValue('tenant', tenant), matchValue('documentId', transition.documentId)];
    if (transition.state === 'deleted') {
      await this.request('delete', (client) =>
        client.delete(collection, { wait: true, filter: { must: document } }),
      );
    } else {
      await this.request('delete', (client) =>
        client.delete(collection, {
          wait: true,
          filter: { must: [...document, { key: 'version', range: { lt: transition.version } }] },
        }),
      );
      await this.request('setPayload', (client) =>
        client.setPayload(collection, {
          wait: true,
          payload: { staged: false },
          filter: { must: [...document, matchValue('version', transition.version)] },
        }),
      );
    }
    await this.options.transitions.settle(tenant, transition);
  }

  // Run again when it outlasted the grace: the points it was filtered for may have been deleted meanwhile.
  async query(query: ChunkQuery): Promise<RetrievedChunk[]> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const started = performance.now();
      let transitions: VersionTransition[];
      try {
        transitions = await this.options.transitions.ofTenant(query.tenant);
      } catch (error) {
        throw new RetrievalError('vector-store-unavailable', 'reading the version transitions failed', {
          cause: error,
        });
      }
      const results = await this.search(query, filterOf(query.tenant, query.filter, transitions));
      if (performance.now() - started <= this.graceMs) return results;
    }
    throw new RetrievalError(
      'vector-store-unavailable',
      `Qdrant searches took longer than the ${this.graceMs} ms grace three times`,
    );
  }

  private async search(query: ChunkQuery, filter: Filter): Promise<RetrievedChunk[]> {
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

function matchValue(key: string, value: string | number | boolean): Condition {
  return { key, match: { value } };
}

function documentKey(tenant: string, documentId: string): string {
  return `${tenant}\u0000${documentId}`;
}

interface Filter {
  must: Condition[];
  must_not: Condition[];
}

/**
 * Staged points are never seen, except those of a document switched to their version; a switched document
 * shows that version only, a deleted one nothing. Every condition goes on each prefetch: Qdrant does not carry
 * a top-level filter into prefetches.
 */
function filterOf(tenant: string, filter: ChunkFilter, transitions: readonly VersionTransition[]): Filter {
  const switched = transitions.filter((transition) => transition.state === 'switched');
  const deleted = transitions.filter((transition) => transition.state === 'deleted');
  const staged = matchValue('staged', true);
  const mustNot: Condition[] = [
    switched.length === 0
      ? staged
      : { must: [staged], must_not: [{ key: 'documentId', match: { any: switched.map((t) => t.documentId) } }] },
    ...switched.map((transition) => ({
      must: [matchValue('documentId', transition.documentId)],
      must_not: [matchValue('version', transition.version)],
    })),
  ];
  if (deleted.length > 0)
    mustNot.push({ key: 'documentId', match: { any: deleted.map((transition) => transition.documentId) } });
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
  return { must, must_not: mustNot };
}
