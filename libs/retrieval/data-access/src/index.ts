/** Retrieval's adapters: vector stores (embedded, Qdrant) and dense embedders (local MiniLM, OpenAI-compatible). */
export type { EmbeddedIndexPersistence } from './embedded-index-persistence';
export { EmbeddedVectorIndex, type EmbeddedVectorIndexOptions } from './embedded-vector-index';
export { pointIdOf, QdrantVectorStore, type QdrantVectorStoreOptions } from './qdrant-vector-store';
export { MiniLmEmbedder, type MiniLmOptions } from './minilm-embedder';
export { resolveMiniLmModel } from './minilm-model';
export { OpenAiEmbedder, type OpenAiEmbedderOptions } from './openai-embedder';
export { type BeirDataset, type BeirDocument, loadBeirDataset } from './beir-dataset';
export { beirTenant, evaluateBeir, indexBeirCorpus } from './beir-evaluation';
export {
  InMemoryVersionTransitions,
  type TenantTransition,
  type VersionTransition,
  type VersionTransitions,
} from './version-transitions';
