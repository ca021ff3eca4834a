import type { RetrievalMode } from '@keel/contracts';
import type { SparseVector } from './sparse-vector';

/** A chunk ready to store: its provenance, the text it shows, and both vectors of its indexed text. */
export interface IndexedChunk {
  readonly chunkId: string;
  readonly chunkHash: string;
  readonly text: string;
  readonly headingPath: readonly string[];
  /** Unit-length or not: stores compare by cosine. */
  readonly dense: readonly number[];
  /** BM25 document weights without IDF (`bm25DocumentVector`). */
  readonly sparse: SparseVector;
}

/** One version of one document of one tenant, all its chunks: what replaces the document's current chunks. */
export interface DocumentVersionEntry {
  readonly tenant: string;
  readonly documentId: string;
  readonly version: number;
  readonly title: string;
  readonly tags: readonly string[];
  readonly chunks: readonly IndexedChunk[];
}

/** Narrows a query; omitted fields do not narrow. Tenant is not here: it is always required. */
export interface ChunkFilter {
  readonly documentIds?: readonly string[];
  readonly versions?: readonly { readonly documentId: string; readonly version: number }[];
  /** A chunk matches when its document carries every tag. */
  readonly tags?: readonly string[];
}

export interface ChunkQuery {
  readonly tenant: string;
  readonly mode: RetrievalMode;
  /** The query's dense vector; required by `dense` and `hybrid`. */
  readonly dense?: readonly number[];
  /** The query's BM25 vector (`bm25QueryVector`); required by `sparse` and `hybrid`. */
  readonly sparse?: SparseVector;
  readonly limit: number;
  /** Candidates each retriever hands to fusion in `hybrid` mode. */
  readonly prefetchLimit: number;
  readonly filter: ChunkFilter;
}

/** A retrieved chunk with its provenance; `score` is RRF in hybrid mode, cosine or BM25 otherwise. */
export interface RetrievedChunk {
  readonly documentId: string;
  readonly version: number;
  readonly chunkId: string;
  readonly chunkHash: string;
  readonly score: number;
  readonly text: string;
  readonly title: string;
  readonly headingPath: readonly string[];
  readonly tags: readonly string[];
}

/**
 * The vector store port. Every adapter passes the same contract suite (`vector-store.contract.ts` in
 * retrieval-data-access): a version replaces the document's previous chunks, search sees only the tenant's
 * chunks that match the filter, and results carry their provenance.
 */
export interface VectorStore {
  /** Creates what the store needs (collection, indexes) when missing; idempotent. */
  prepare(): Promise<void>;
  /** Stores a document version's chunks and removes the document's chunks of every other version. */
  replaceDocumentVersion(entry: DocumentVersionEntry): Promise<void>;
  deleteDocument(tenant: string, documentId: string): Promise<void>;
  query(query: ChunkQuery): Promise<RetrievedChunk[]>;
}
