/** Retrieval's adapters: vector stores (embedded, Qdrant) and dense embedders (local MiniLM, OpenAI-compatible). */
export { EmbeddedVectorIndex } from './embedded-vector-index';
export { pointIdOf, QdrantVectorStore, type QdrantVectorStoreOptions } from './qdrant-vector-store';
