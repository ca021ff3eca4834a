import type { DocumentVersionEntry } from '@keel/retrieval-domain';
import type { EmbeddedIndexPersistence } from './embedded-index-persistence';
import { EmbeddedVectorIndex } from './embedded-vector-index';
import { describeVectorStoreContract } from './vector-store.contract';

describeVectorStoreContract('the embedded vector index', () =>
  Promise.resolve({ store: new EmbeddedVectorIndex(), close: () => Promise.resolve() }),
);

/** Rows kept in memory, each call taking a turn of the event loop, as a database round trip does. */
class TurnTakingPersistence implements EmbeddedIndexPersistence {
  readonly rows = new Map<string, DocumentVersionEntry>();

  async load(): Promise<DocumentVersionEntry[]> {
    await turn();
    return [...this.rows.values()];
  }

  async saveVersion(entry: DocumentVersionEntry): Promise<void> {
    await turn();
    this.rows.set(`${entry.tenant}/${entry.documentId}`, entry);
  }

  async deleteDocument(tenant: string, documentId: string): Promise<void> {
    await turn();
    this.rows.delete(`${tenant}/${documentId}`);
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

// Writes that wait for their persistence let searches run in between: the contract must hold all the same.
describeVectorStoreContract('the embedded vector index with persistence', () =>
  Promise.resolve({
    store: new EmbeddedVectorIndex({ persistence: new TurnTakingPersistence() }),
    close: () => Promise.resolve(),
  }),
);

describe('the embedded vector index rebuilt from its persistence', () => {
  const chunk = (chunkId: string, dense: number[], indices: number[]) => ({
    chunkId,
    chunkHash: chunkId,
    text: chunkId,
    headingPath: [],
    dense,
    sparse: { indices, values: indices.map((index) => 0.5 + index / 10) },
  });
  const entry = (documentId: string, version: number, dense: number[], indices: number[]) => ({
    tenant: 'acme',
    documentId,
    version,
    title: documentId,
    tags: [],
    chunks: [chunk(`${documentId}@${version}#0`, dense, indices)],
  });

  it('ranks after the rebuild exactly as before, without what was replaced or deleted', async () => {
    const persistence = new TurnTakingPersistence();
    const before = new EmbeddedVectorIndex({ persistence });
    await before.replaceDocumentVersion(entry('a', 1, [1, 0.2, 0], [1, 2]));
    await before.replaceDocumentVersion(entry('b', 1, [0.3, 1, 0], [2, 3]));
    await before.replaceDocumentVersion(entry('a', 2, [1, 0.1, 0.1], [1, 3]));
    await before.replaceDocumentVersion(entry('c', 1, [0, 0, 1], [3]));
    await before.deleteDocument('acme', 'c');
    const after = new EmbeddedVectorIndex({ persistence });
    await after.prepare();
    for (const mode of ['dense', 'sparse', 'hybrid'] as const) {
      const query = {
        tenant: 'acme',
        mode,
        dense: [1, 0.5, 0.2],
        sparse: { indices: [1, 2, 3], values: [1, 1, 1] },
        limit: 10,
        prefetchLimit: 10,
        filter: {},
      };
      const rebuilt = await after.query(query);
      expect(rebuilt).toEqual(await before.query(query));
      expect(rebuilt.map((result) => result.chunkId).sort()).toEqual(['a@2#0', 'b@1#0']);
    }
  });

  it('keeps memory unchanged when persisting a version fails', async () => {
    const persistence = new TurnTakingPersistence();
    const index = new EmbeddedVectorIndex({ persistence });
    await index.replaceDocumentVersion(entry('a', 1, [1, 0, 0], [1]));
    persistence.saveVersion = () => Promise.reject(new Error('database down'));
    await expect(index.replaceDocumentVersion(entry('a', 2, [1, 0, 0], [1]))).rejects.toThrow('database down');
    const results = await index.query({
      tenant: 'acme',
      mode: 'dense',
      dense: [1, 0, 0],
      limit: 10,
      prefetchLimit: 10,
      filter: {},
    });
    expect(results.map((result) => result.version)).toEqual([1]);
  });

  it('refuses dense vectors of another dimension than the index holds', async () => {
    const index = new EmbeddedVectorIndex();
    await index.replaceDocumentVersion(entry('a', 1, [1, 0, 0], [1]));
    await expect(index.replaceDocumentVersion(entry('b', 1, [1, 0], [1]))).rejects.toMatchObject({
      code: 'invalid-request',
    });
  });
});
