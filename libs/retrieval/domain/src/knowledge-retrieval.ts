import type { ContextQueryRequest } from '@keel/contracts';
import {
  type ChunkableDocument,
  type ChunkingOptions,
  chunkDocument,
  defaultChunking,
  indexedTextOf,
} from './chunking';
import type { DenseEmbedder } from './embedder.port';
import { bm25DocumentVector, bm25QueryVector } from './qdrant-bm25';
import type { DocumentVersionEntry, RetrievedChunk, VectorStore } from './vector-store.port';

/** A knowledge document version as retrieval indexes it (the `keel.knowledge.documents.v1` data plus tenant). */
export interface IndexableDocument extends ChunkableDocument {
  readonly tenant: string;
  readonly tags: readonly string[];
}

export interface KnowledgeRetrievalOptions {
  readonly chunking: ChunkingOptions;
  /** Candidates each retriever hands to RRF; more finds more, at more cost. */
  readonly prefetchLimit: number;
}

export const defaultKnowledgeRetrieval: KnowledgeRetrievalOptions = {
  chunking: defaultChunking,
  prefetchLimit: 100,
};

/**
 * The two use cases of retrieval over its ports: index a document version (chunk, embed dense and sparse,
 * replace the document's chunks in the store) and answer a context query (embed the query both ways, search).
 * Both vectors are computed here, so every store gets the same ones.
 */
export class KnowledgeRetrieval {
  constructor(
    private readonly store: VectorStore,
    private readonly embedder: DenseEmbedder,
    private readonly options: KnowledgeRetrievalOptions = defaultKnowledgeRetrieval,
  ) {}

  async index(document: IndexableDocument): Promise<DocumentVersionEntry> {
    const chunks = chunkDocument(document, this.options.chunking);
    const texts = chunks.map((chunk) => indexedTextOf(document.title, chunk));
    const dense = await this.embedder.embed(texts, 'document');
    const entry: DocumentVersionEntry = {
      tenant: document.tenant,
      documentId: document.documentId,
      version: document.version,
      title: document.title,
      tags: document.tags,
      chunks: chunks.map((chunk, i) => ({
        chunkId: chunk.chunkId,
        chunkHash: chunk.chunkHash,
        text: chunk.text,
        headingPath: chunk.headingPath,
        dense: dense[i],
        sparse: bm25DocumentVector(texts[i]),
      })),
    };
    await this.store.replaceDocumentVersion(entry);
    return entry;
  }

  async retrieve(request: ContextQueryRequest): Promise<RetrievedChunk[]> {
    const dense =
      request.mode === 'sparse' ? undefined : (await this.embedder.embed([request.query], 'query'))[0];
    return this.store.query({
      tenant: request.tenant,
      mode: request.mode,
      dense,
      sparse: bm25QueryVector(request.query),
      limit: request.limit,
      prefetchLimit: Math.max(this.options.prefetchLimit, request.limit),
      filter: request.filter,
    });
  }
}
