import { contextQueryRequestSchema } from '@keel/contracts';
import type { DenseEmbedder } from './embedder.port';
import { sha256Hex } from './chunking';
import { KnowledgeRetrieval } from './knowledge-retrieval';
import { bm25DocumentVector, bm25QueryVector } from './qdrant-bm25';
import type { ChunkQuery, DocumentVersionEntry, VectorStore } from './vector-store.port';

class RecordingStore implements VectorStore {
  readonly entries: DocumentVersionEntry[] = [];
  readonly queries: ChunkQuery[] = [];
  prepare = () => Promise.resolve();
  deleteDocument = () => Promise.resolve();
  replaceDocumentVersion(entry: DocumentVersionEntry) {
    this.entries.push(entry);
    return Promise.resolve();
  }
  query(query: ChunkQuery) {
    this.queries.push(query);
    return Promise.resolve([]);
  }
}

// Embeds a text as [its length, 1] and records what it was asked.
class LengthEmbedder implements DenseEmbedder {
  readonly model = 'length';
  readonly dimensions = 2;
  readonly calls: { texts: readonly string[]; purpose: string }[] = [];
  embed(texts: readonly string[], purpose: 'document' | 'query') {
    this.calls.push({ texts, purpose });
    return Promise.resolve(texts.map((text) => [text.length, 1]));
  }
}

describe('knowledge retrieval over its ports', () => {
  it('indexes a version as chunks with dense and BM25 vectors of title, headings and text', async () => {
    const store = new RecordingStore();
    const embedder = new LengthEmbedder();
    await new KnowledgeRetrieval(store, embedder).index({
      tenant: 'acme',
      documentId: 'refunds',
      version: 2,
      title: 'Refund policy',
      mediaType: 'text/markdown',
      content: '# Windows\nRefunds within 30 days.',
      tags: ['policy'],
    });
    const indexed = 'Refund policy\nWindows\nRefunds within 30 days.';
    expect(embedder.calls).toEqual([{ texts: [indexed], purpose: 'document' }]);
    expect(store.entries).toEqual([
      {
        tenant: 'acme',
        documentId: 'refunds',
        version: 2,
        title: 'Refund policy',
        tags: ['policy'],
        chunks: [
          {
            chunkId: 'refunds@2#0',
            chunkHash: sha256Hex('Refunds within 30 days.'),
            text: 'Refunds within 30 days.',
            headingPath: ['Windows'],
            dense: [indexed.length, 1],
            sparse: bm25DocumentVector(indexed),
          },
        ],
      },
    ]);
  });

  it('asks the store with both query vectors, the tenant and the filter; sparse mode skips the embedder', async () => {
    const store = new RecordingStore();
    const embedder = new LengthEmbedder();
    const retrieval = new KnowledgeRetrieval(store, embedder);
    await retrieval.retrieve(
      contextQueryRequestSchema.parse({
        tenant: 'acme',
        query: 'refund window',
        filter: { tags: ['policy'] },
      }),
    );
    expect(store.queries[0]).toEqual({
      tenant: 'acme',
      mode: 'hybrid',
      dense: ['refund window'.length, 1],
      sparse: bm25QueryVector('refund window'),
      limit: 8,
      prefetchLimit: 100,
      filter: { tags: ['policy'] },
    });
    await retrieval.retrieve(
      contextQueryRequestSchema.parse({ tenant: 'acme', query: 'refund', mode: 'sparse' }),
    );
    expect(embedder.calls).toHaveLength(1);
    expect(store.queries[1].dense).toBeUndefined();
  });
});
