import {
  bm25Idf,
  type ChunkFilter,
  type ChunkQuery,
  type DocumentVersionEntry,
  fuseByReciprocalRank,
  RetrievalError,
  type RetrievedChunk,
  type SparseVector,
  type VectorStore,
} from '@keel/retrieval-domain';

interface StoredChunk {
  readonly id: string;
  readonly tenant: string;
  readonly documentId: string;
  readonly version: number;
  readonly entry: DocumentVersionEntry;
  readonly chunkId: string;
  readonly chunkHash: string;
  readonly text: string;
  readonly headingPath: readonly string[];
  readonly unitDense: Float32Array;
  readonly sparse: ReadonlyMap<number, number>;
}

interface Scored {
  readonly chunk: StoredChunk;
  readonly score: number;
}

/**
 * The embedded vector store: in-process and exact. Dense search is brute-force cosine (vectors normalised on
 * insertion, as Qdrant does for `Cosine`); sparse search is the dot product with IDF computed over the whole
 * index, as Qdrant's `modifier: 'idf'` does over a collection; hybrid fuses both by Qdrant's RRF. A version
 * replaces the previous one in one synchronous step, so no query ever sees both.
 */
export class EmbeddedVectorIndex implements VectorStore {
  private readonly documents = new Map<string, readonly StoredChunk[]>();
  private readonly documentFrequency = new Map<number, number>();
  private pointCount = 0;

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  replaceDocumentVersion(entry: DocumentVersionEntry): Promise<void> {
    const key = documentKey(entry.tenant, entry.documentId);
    const chunks = entry.chunks.map((chunk): StoredChunk => ({
      id: `${key}\u0000${chunk.chunkId}`,
      tenant: entry.tenant,
      documentId: entry.documentId,
      version: entry.version,
      entry,
      chunkId: chunk.chunkId,
      chunkHash: chunk.chunkHash,
      text: chunk.text,
      headingPath: chunk.headingPath,
      unitDense: unitLength(chunk.dense),
      sparse: sparseMap(chunk.sparse),
    }));
    this.forget(key);
    this.documents.set(key, chunks);
    this.count(chunks, +1);
    return Promise.resolve();
  }

  deleteDocument(tenant: string, documentId: string): Promise<void> {
    this.forget(documentKey(tenant, documentId));
    return Promise.resolve();
  }

  query(query: ChunkQuery): Promise<RetrievedChunk[]> {
    const candidates = [...this.documents.values()]
      .flat()
      .filter((chunk) => matches(chunk, query.tenant, query.filter));
    const rankDense = (limit: number) => {
      const unitQuery = unitLength(required(query.dense, 'dense'));
      return topBy(candidates, (chunk) => dot(chunk.unitDense, unitQuery), limit, false);
    };
    const rankSparse = (limit: number) => {
      const sparse = required(query.sparse, 'sparse');
      return topBy(candidates, (chunk) => this.bm25(chunk, sparse), limit, true);
    };
    switch (query.mode) {
      case 'dense':
        return Promise.resolve(rankDense(query.limit).map(retrieved));
      case 'sparse':
        return Promise.resolve(rankSparse(query.limit).map(retrieved));
      case 'hybrid': {
        const rankings = [rankDense(query.prefetchLimit), rankSparse(query.prefetchLimit)];
        const byId = new Map(rankings.flat().map((scored) => [scored.chunk.id, scored.chunk]));
        const fused = fuseByReciprocalRank(
          rankings.map((ranking) => ranking.map((scored) => scored.chunk.id)),
        );
        return Promise.resolve(
          fused
            .slice(0, query.limit)
            .map(({ id, score }) => retrieved({ chunk: byId.get(id) as StoredChunk, score })),
        );
      }
    }
  }

  private bm25(chunk: StoredChunk, query: SparseVector): number {
    let score = 0;
    query.indices.forEach((index, i) => {
      const weight = chunk.sparse.get(index);
      if (weight !== undefined) {
        score += query.values[i] * weight * bm25Idf(this.pointCount, this.documentFrequency.get(index) ?? 0);
      }
    });
    return score;
  }

  private forget(key: string): void {
    const previous = this.documents.get(key);
    if (previous === undefined) return;
    this.count(previous, -1);
    this.documents.delete(key);
  }

  private count(chunks: readonly StoredChunk[], delta: 1 | -1): void {
    this.pointCount += delta * chunks.length;
    for (const chunk of chunks) {
      for (const index of chunk.sparse.keys()) {
        const next = (this.documentFrequency.get(index) ?? 0) + delta;
        if (next === 0) this.documentFrequency.delete(index);
        else this.documentFrequency.set(index, next);
      }
    }
  }
}

function documentKey(tenant: string, documentId: string): string {
  return `${tenant}\u0000${documentId}`;
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined)
    throw new RetrievalError('invalid-request', `this query mode needs a ${name} query vector`);
  return value;
}

function matches(chunk: StoredChunk, tenant: string, filter: ChunkFilter): boolean {
  return (
    chunk.tenant === tenant &&
    (filter.documentIds === undefined || filter.documentIds.includes(chunk.documentId)) &&
    (filter.versions === undefined ||
      filter.versions.some((pin) => pin.documentId === chunk.documentId && pin.version === chunk.version)) &&
    (filter.tags === undefined || filter.tags.every((tag) => chunk.entry.tags.includes(tag)))
  );
}

// Best first; equal scores by id so results never depend on insertion order. Sparse search, like Qdrant's,
// returns only chunks sharing a term with the query.
function topBy(
  chunks: readonly StoredChunk[],
  score: (chunk: StoredChunk) => number,
  limit: number,
  positiveOnly: boolean,
): Scored[] {
  const scored: Scored[] = [];
  for (const chunk of chunks) {
    const value = score(chunk);
    if (!positiveOnly || value > 0) scored.push({ chunk, score: value });
  }
  return scored
    .sort((x, y) => y.score - x.score || (x.chunk.id < y.chunk.id ? -1 : x.chunk.id > y.chunk.id ? 1 : 0))
    .slice(0, limit);
}

function unitLength(vector: readonly number[]): Float32Array {
  const unit = Float32Array.from(vector);
  const norm = Math.hypot(...unit);
  if (norm > 0) for (let i = 0; i < unit.length; i++) unit[i] /= norm;
  return unit;
}

function dot(x: Float32Array, y: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * y[i];
  return sum;
}

function sparseMap(vector: SparseVector): Map<number, number> {
  return new Map(vector.indices.map((index, i) => [index, vector.values[i]]));
}

function retrieved({ chunk, score }: Scored): RetrievedChunk {
  return {
    documentId: chunk.documentId,
    version: chunk.version,
    chunkId: chunk.chunkId,
    chunkHash: chunk.chunkHash,
    score,
    text: chunk.text,
    title: chunk.entry.title,
    headingPath: chunk.headingPath,
    tags: chunk.entry.tags,
  };
}
