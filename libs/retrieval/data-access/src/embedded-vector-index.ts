import {
  bm25Idf,
  type ChunkFilter,
  type ChunkQuery,
  type DocumentVersionEntry,
  fuseByReciprocalRank,
  RetrievalError,
  type RetrievedChunk,
  type VectorStore,
} from '@keel/retrieval-domain';
import type { EmbeddedIndexPersistence } from './embedded-index-persistence';

export interface EmbeddedVectorIndexOptions {
  /**
   * Where the index keeps its documents across restarts (retrieval's Postgres schema in the service);
   * `prepare()` rebuilds the in-memory index from it. Without it the index lives only in the process.
   */
  readonly persistence?: EmbeddedIndexPersistence;
}

interface StoredChunk {
  /** Tenant, document and chunk id: the tie-breaker, so equal scores never depend on insertion order. */
  readonly id: string;
  readonly slot: number;
  readonly entry: DocumentVersionEntry;
  readonly chunkIndex: number;
}

interface StoredDocument {
  readonly entry: DocumentVersionEntry;
  readonly slots: readonly number[];
}

/** One term's postings: the slots holding the term and their BM25 document weights, unordered. */
interface Posting {
  slots: Int32Array;
  weights: Float64Array;
  length: number;
}

interface Scored {
  readonly chunk: StoredChunk;
  readonly score: number;
}

/**
 * One tenant's chunks (Qdrant's `is_tenant` partitioning, in process): slots into one contiguous matrix of unit
 * dense vectors (a query scans it linearly), an inverted index from BM25 token id to postings (a query touches
 * only chunks sharing a term), and documents by id, so filters, which are all per document, are decided once
 * per document instead of once per chunk.
 */
class TenantSegment {
  readonly documents = new Map<string, StoredDocument>();
  readonly postings = new Map<number, Posting>();
  chunks: (StoredChunk | undefined)[] = [];
  // Float64 holding float32 values exactly: the scan reads doubles without a conversion per element (measured
  // ~8% less CPU per scan than a Float32Array), at twice the memory: 3 KB per 384-dimension chunk.
  matrix = new Float64Array(0);
  private readonly free: number[] = [];

  constructor(
    readonly tenant: string,
    readonly dimensions: number,
  ) {}

  get liveCount(): number {
    return this.chunks.length - this.free.length;
  }

  add(entry: DocumentVersionEntry, unitVectors: readonly Float32Array[]): void {
    const slots = entry.chunks.map((chunk, chunkIndex) => {
      const slot = this.allocate();
      this.chunks[slot] = {
        id: `${this.tenant}\u0000${entry.documentId}\u0000${chunk.chunkId}`,
        slot,
        entry,
        chunkIndex,
      };
      this.matrix.set(unitVectors[chunkIndex], slot * this.dimensions);
      const { indices, values } = chunk.sparse;
      for (let i = 0; i < indices.length; i++) this.post(indices[i], slot, values[i]);
      return slot;
    });
    this.documents.set(entry.documentId, { entry, slots });
  }

  remove(documentId: string): DocumentVersionEntry | undefined {
    const document = this.documents.get(documentId);
    if (document === undefined) return undefined;
    document.slots.forEach((slot, chunkIndex) => {
      for (const index of document.entry.chunks[chunkIndex].sparse.indices) this.unpost(index, slot);
      this.chunks[slot] = undefined;
      this.free.push(slot);
    });
    this.documents.delete(documentId);
    return document.entry;
  }

  /** Which slots a filter admits, or `undefined` when it admits every chunk (no mask to check). */
  admitted(filter: ChunkFilter): Uint8Array | undefined {
    if (filter.documentIds === undefined && filter.versions === undefined && filter.tags === undefined)
      return undefined;
    const mask = new Uint8Array(this.chunks.length);
    const documents =
      filter.documentIds === undefined
        ? this.documents.values()
        : filter.documentIds.map((id) => this.documents.get(id)).filter((doc) => doc !== undefined);
    for (const document of documents) {
      if (!matches(document.entry, filter)) continue;
      for (const slot of document.slots) mask[slot] = 1;
    }
    return mask;
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.chunks.length;
    this.chunks.push(undefined);
    if ((slot + 1) * this.dimensions > this.matrix.length) {
      const grown = new Float64Array(Math.max(64, (slot + 1) * 2) * this.dimensions);
      grown.set(this.matrix);
      this.matrix = grown;
    }
    return slot;
  }

  private post(index: number, slot: number, weight: number): void {
    let posting = this.postings.get(index);
    if (posting === undefined) {
      posting = { slots: new Int32Array(4), weights: new Float64Array(4), length: 0 };
      this.postings.set(index, posting);
    }
    if (posting.length === posting.slots.length) {
      const slots = new Int32Array(posting.length * 2);
      slots.set(posting.slots);
      const weights = new Float64Array(posting.length * 2);
      weights.set(posting.weights);
      posting.slots = slots;
      posting.weights = weights;
    }
    posting.slots[posting.length] = slot;
    posting.weights[posting.length] = weight;
    posting.length += 1;
  }

  // Swap-remove: a posting's order does not matter, each chunk's score adds its terms in query order.
  private unpost(index: number, slot: number): void {
    const posting = this.postings.get(index);
    if (posting === undefined) return;
    const at = posting.slots.subarray(0, posting.length).indexOf(slot);
    if (at < 0) return;
    const last = posting.length - 1;
    posting.slots[at] = posting.slots[last];
    posting.weights[at] = posting.weights[last];
    posting.length = last;
    if (last === 0) this.postings.delete(index);
  }
}

/**
 * The embedded vector store: in-process and exact. Dense search is brute-force cosine over a contiguous matrix
 * of vectors normalised on insertion (as Qdrant does for `Cosine`); sparse search walks the inverted index of
 * the query's terms with IDF computed over the whole index, as Qdrant's `modifier: 'idf'` does over a
 * collection; hybrid fuses both by Qdrant's RRF.
 *
 * A version replaces the previous one in one synchronous step (after its rows are persisted, when the index
 * persists), so no query ever sees both versions, nor neither. Writes are serialised, so the persisted rows
 * and the memory apply them in the same order.
 */
export class EmbeddedVectorIndex implements VectorStore {
  private readonly tenants = new Map<string, TenantSegment>();
  private readonly documentFrequency = new Map<number, number>();
  private pointCount = 0;
  private writes: Promise<unknown> = Promise.resolve();
  // Scratch of sparse scoring, reused: a query runs synchronously, so no two queries share it at once.
  private sparseScores = new Float64Array(0);
  private sparseStamps = new Uint32Array(0);
  private sparseStamp = 0;

  constructor(private readonly options: EmbeddedVectorIndexOptions = {}) {}

  /** Rebuilds the index from its persistence, when it has one; the documents loaded replace what is held. */
  async prepare(): Promise<void> {
    const persistence = this.options.persistence;
    if (persistence === undefined) return;
    await this.serialised(async () => {
      for (const entry of await persistence.load()) this.apply(entry);
    });
  }

  async replaceDocumentVersion(entry: DocumentVersionEntry): Promise<void> {
    const unitVectors = entry.chunks.map((chunk) => unitLength(chunk.dense));
    const dimensions = unitVectors[0]?.length;
    const segment = this.tenants.get(entry.tenant);
    if (unitVectors.some((vector) => vector.length !== (segment?.dimensions ?? dimensions)))
      throw new RetrievalError(
        'invalid-request',
        `document ${entry.documentId} has dense vectors of another dimension than the index's`,
      );
    await this.serialised(async () => {
      await this.options.persistence?.saveVersion(entry);
      this.apply(entry, unitVectors);
    });
  }

  deleteDocument(tenant: string, documentId: string): Promise<void> {
    return this.serialised(async () => {
      await this.options.persistence?.deleteDocument(tenant, documentId);
      const removed = this.tenants.get(tenant)?.remove(documentId);
      if (removed) this.count(removed, -1);
    });
  }

  query(query: ChunkQuery): Promise<RetrievedChunk[]> {
    // An executor that throws rejects: a bad query fails the promise, as an async method's would.
    return new Promise((resolve) => resolve(this.search(query)));
  }

  // Synchronous: no write can interleave with a search, so a search sees one version of each document.
  private search(query: ChunkQuery): RetrievedChunk[] {
    if (query.mode !== 'sparse') required(query.dense, 'dense');
    if (query.mode !== 'dense') required(query.sparse, 'sparse');
    const segment = this.tenants.get(query.tenant);
    if (segment === undefined) return [];
    const mask = segment.admitted(query.filter);
    switch (query.mode) {
      case 'dense':
        return this.rankDense(segment, mask, query, query.limit).map(retrieved);
      case 'sparse':
        return this.rankSparse(segment, mask, query, query.limit).map(retrieved);
      case 'hybrid': {
        const rankings = [
          this.rankDense(segment, mask, query, query.prefetchLimit),
          this.rankSparse(segment, mask, query, query.prefetchLimit),
        ];
        const byId = new Map(rankings.flat().map((scored) => [scored.chunk.id, scored.chunk]));
        const fused = fuseByReciprocalRank(
          rankings.map((ranking) => ranking.map((scored) => scored.chunk.id)),
        );
        return fused
          .slice(0, query.limit)
          .map(({ id, score }) => retrieved({ chunk: byId.get(id) as StoredChunk, score }));
      }
    }
  }

  private rankDense(
    segment: TenantSegment,
    mask: Uint8Array | undefined,
    query: ChunkQuery,
    limit: number,
  ): Scored[] {
    // The float32 unit vector widened to float64: the same values, so the same products, ~10% faster to read.
    const unitQuery = Float64Array.from(unitLength(required(query.dense, 'dense')));
    if (unitQuery.length !== segment.dimensions)
      throw new RetrievalError(
        'invalid-request',
        `the dense query vector has ${unitQuery.length} dimensions, the index ${segment.dimensions}`,
      );
    const top = new TopK(limit);
    const { chunks, matrix, dimensions } = segment;
    for (let slot = 0; slot < chunks.length; slot++) {
      const chunk = chunks[slot];
      if (chunk === undefined || (mask !== undefined && mask[slot] === 0)) continue;
      const score = dot(matrix, slot * dimensions, unitQuery);
      if (top.admits(score)) top.offer(chunk, score);
    }
    return top.best();
  }

  // Only chunks sharing a term are scored, as in Qdrant; each chunk adds its terms in the query's order, so its
  // score is the same sum, in the same order, as a dot product over the query's terms.
  private rankSparse(
    segment: TenantSegment,
    mask: Uint8Array | undefined,
    query: ChunkQuery,
    limit: number,
  ): Scored[] {
    const sparse = required(query.sparse, 'sparse');
    const slots = segment.chunks.length;
    if (this.sparseScores.length < slots) {
      this.sparseScores = new Float64Array(slots * 2);
      this.sparseStamps = new Uint32Array(slots * 2);
      this.sparseStamp = 0;
    }
    this.sparseStamp = (this.sparseStamp + 1) >>> 0;
    if (this.sparseStamp === 0) {
      this.sparseStamps.fill(0);
      this.sparseStamp = 1;
    }
    const scores = this.sparseScores;
    const stamps = this.sparseStamps;
    const stamp = this.sparseStamp;
    const touched: number[] = [];
    for (let i = 0; i < sparse.indices.length; i++) {
      const index = sparse.indices[i];
      const posting = segment.postings.get(index);
      if (posting === undefined) continue;
      const weight = sparse.values[i] * bm25Idf(this.pointCount, this.documentFrequency.get(index) ?? 0);
      for (let p = 0; p < posting.length; p++) {
        const slot = posting.slots[p];
        if (mask !== undefined && mask[slot] === 0) continue;
        if (stamps[slot] !== stamp) {
          stamps[slot] = stamp;
          scores[slot] = 0;
          touched.push(slot);
        }
        scores[slot] += weight * posting.weights[p];
      }
    }
    const top = new TopK(limit);
    for (const slot of touched) {
      if (scores[slot] > 0) top.offer(segment.chunks[slot] as StoredChunk, scores[slot]);
    }
    return top.best();
  }

  private apply(entry: DocumentVersionEntry, unitVectors = entry.chunks.map((c) => unitLength(c.dense))): void {
    let segment = this.tenants.get(entry.tenant);
    const removed = segment?.remove(entry.documentId);
    if (removed) this.count(removed, -1);
    if (entry.chunks.length === 0) return;
    if (segment === undefined || segment.liveCount === 0) {
      segment = new TenantSegment(entry.tenant, unitVectors[0].length);
      this.tenants.set(entry.tenant, segment);
    }
    segment.add(entry, unitVectors);
    this.count(entry, +1);
  }

  private serialised(write: () => Promise<void>): Promise<void> {
    const done = this.writes.then(write);
    this.writes = done.catch(() => undefined);
    return done;
  }

  private count(entry: DocumentVersionEntry, delta: 1 | -1): void {
    this.pointCount += delta * entry.chunks.length;
    for (const chunk of entry.chunks) {
      for (const index of chunk.sparse.indices) {
        const next = (this.documentFrequency.get(index) ?? 0) + delta;
        if (next === 0) this.documentFrequency.delete(index);
        else this.documentFrequency.set(index, next);
      }
    }
  }
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined)
    throw new RetrievalError('invalid-request', `this query mode needs a ${name} query vector`);
  return value;
}

function matches(entry: DocumentVersionEntry, filter: ChunkFilter): boolean {
  return (
    (filter.documentIds === undefined || filter.documentIds.includes(entry.documentId)) &&
    (filter.versions === undefined ||
      filter.versions.some((pin) => pin.documentId === entry.documentId && pin.version === entry.version)) &&
    (filter.tags === undefined || filter.tags.every((tag) => entry.tags.includes(tag)))
  );
}

const before = (x: Scored, y: Scored) =>
  y.score - x.score || (x.chunk.id < y.chunk.id ? -1 : x.chunk.id > y.chunk.id ? 1 : 0);

/**
 * The best `limit` chunks, best first, equal scores by id. A bounded sorted list, since limit ≪ chunks; a chunk
 * scoring below the current last place is refused by one comparison, before anything is allocated for it.
 */
class TopK {
  private readonly top: Scored[] = [];

  constructor(private readonly limit: number) {}

  /** False when the score is below the last place of a full list: the caller skips it without a call. */
  admits(score: number): boolean {
    return this.top.length < this.limit || score >= this.top[this.limit - 1].score;
  }

  offer(chunk: StoredChunk, score: number): void {
    const { top, limit } = this;
    if (top.length === limit && score < top[limit - 1].score) return;
    const candidate = { chunk, score };
    if (top.length === limit && before(candidate, top[limit - 1]) >= 0) return;
    let low = 0;
    let high = top.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(top[middle], candidate) < 0) low = middle + 1;
      else high = middle;
    }
    top.splice(low, 0, candidate);
    if (top.length > limit) top.pop();
  }

  best(): Scored[] {
    return this.top;
  }
}

function unitLength(vector: readonly number[]): Float32Array {
  const unit = Float32Array.from(vector);
  const norm = Math.hypot(...unit);
  if (norm > 0) for (let i = 0; i < unit.length; i++) unit[i] /= norm;
  return unit;
}

// Four accumulators over one row of the matrix: the dense scan is the query's hot loop, and this runs it ~25%
// faster than one accumulator.
function dot(matrix: Float64Array, offset: number, y: Float64Array): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const length = y.length;
  const end = length - (length % 4);
  for (let i = 0; i < end; i += 4) {
    a += matrix[offset + i] * y[i];
    b += matrix[offset + i + 1] * y[i + 1];
    c += matrix[offset + i + 2] * y[i + 2];
    d += matrix[offset + i + 3] * y[i + 3];
  }
  for (let i = end; i < length; i++) a += matrix[offset + i] * y[i];
  return a + b + c + d;
}

function retrieved({ chunk, score }: Scored): RetrievedChunk {
  const { entry } = chunk;
  const stored = entry.chunks[chunk.chunkIndex];
  return {
    documentId: entry.documentId,
    version: entry.version,
    chunkId: stored.chunkId,
    chunkHash: stored.chunkHash,
    score,
    text: stored.text,
    title: entry.title,
    headingPath: stored.headingPath,
    tags: entry.tags,
  };
}
