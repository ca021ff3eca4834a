/** Retrieval's pure core: chunking, Qdrant-identical BM25 vectors, RRF, ranking metrics, and the ports. */
export {
  chunkDocument,
  chunkIdOf,
  defaultChunking,
  indexedTextOf,
  sha256Hex,
  type ChunkableDocument,
  type ChunkingOptions,
  type DocumentChunk,
} from './chunking';
export { decideVersion, type IndexedVersion, type VersionDecision } from './document-version';
export type { DenseEmbedder, EmbeddingPurpose } from './embedder.port';
export {
  bm25DocumentVector,
  bm25Idf,
  bm25QueryVector,
  qdrantBm25Defaults,
  qdrantBm25TokenId,
  qdrantBm25Tokens,
  type Bm25Parameters,
} from './qdrant-bm25';
export {
  ndcgAt,
  recallAt,
  retrievalQuality,
  type Judgements,
  type RetrievalQuality,
  type ScoredDocument,
} from './ranking-metrics';
export {
  defaultKnowledgeRetrieval,
  type IndexableDocument,
  KnowledgeRetrieval,
  type KnowledgeRetrievalOptions,
} from './knowledge-retrieval';
export { QueryEmbeddingCache } from './query-embedding-cache';
export { RetrievalError, RetrievalErrorCode } from './retrieval.error';
export { fuseByReciprocalRank, qdrantRrfK, type FusedScore } from './reciprocal-rank-fusion';
export type { SparseVector } from './sparse-vector';
export type {
  ChunkFilter,
  ChunkQuery,
  DocumentVersionEntry,
  IndexedChunk,
  RetrievedChunk,
  VectorStore,
} from './vector-store.port';
