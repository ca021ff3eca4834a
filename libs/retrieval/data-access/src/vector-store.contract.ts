import {
  bm25DocumentVector,
  bm25QueryVector,
  sha256Hex,
  type ChunkQuery,
  type DocumentVersionEntry,
  type VectorStore,
} from '@keel/retrieval-domain';

/** Dimension of the contract's hand-made dense vectors; a store under test must be created with it. */
export const contractDimensions = 4;

const chunk = (chunkId: string, text: string, dense: number[], headingPath: string[] = []) => ({
  chunkId,
  chunkHash: sha256Hex(text),
  text,
  headingPath,
  dense,
  sparse: bm25DocumentVector(text),
});

const refundsV1: DocumentVersionEntry = {
  tenant: 'acme',
  documentId: 'refunds',
  version: 1,
  title: 'Refund policy',
  tags: ['policy', 'billing'],
  chunks: [
    chunk('refunds@1#0', 'Refunds are paid within thirty days of purchase.', [1, 0, 0, 0], ['Refunds']),
    chunk(
      'refunds@1#1',
      'Sale items are final and cannot be returned.',
      [0.8, 0.6, 0, 0],
      ['Refunds', 'Exceptions'],
    ),
    chunk('refunds@1#2', 'Gift cards are never refunded.', [0.6, 0.8, 0, 0], ['Refunds', 'Exceptions']),
  ],
};

const shipping: DocumentVersionEntry = {
  tenant: 'acme',
  documentId: 'shipping',
  version: 4,
  title: 'Shipping',
  tags: ['logistics'],
  chunks: [chunk('shipping@4#0', 'Parcels ship from the warehouse within two days.', [0, 0, 1, 0])],
};

const otherTenant: DocumentVersionEntry = {
  ...refundsV1,
  tenant: 'globex',
  title: 'Globex refunds',
  chunks: [chunk('refunds@1#0', 'Refunds are paid within thirty days of purchase.', [1, 0, 0, 0])],
};

const query = (overrides: Partial<ChunkQuery>): ChunkQuery => ({
  tenant: 'acme',
  mode: 'dense',
  dense: [1, 0, 0, 0],
  sparse: bm25QueryVector('refunds'),
  limit: 10,
  prefetchLimit: 20,
  filter: {},
  ...overrides,
});

/**
 * The behaviour every `VectorStore` adapter must have. `open` gives a store over an empty index (a fresh
 * collection, a new instance); `close` releases it.
 */
export function describeVectorStoreContract(
  name: string,
  open: () => Promise<{ store: VectorStore; close: () => Promise<void> }>,
): void {
  describe(`${name} honours the vector store contract`, () => {
    let store: VectorStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ store, close } = await open());
      await store.prepare();
      await store.replaceDocumentVersion(refundsV1);
      await store.replaceDocumentVersion(shipping);
      await store.replaceDocumentVersion(otherTenant);
    });

    afterEach(async () => close());

    it('returns chunks nearest first with their provenance', async () => {
      const results = await store.query(query({ limit: 2 }));
      expect(results.map((result) => result.chunkId)).toEqual(['refunds@1#0', 'refunds@1#1']);
      expect(results[0]).toEqual({
        documentId: 'refunds',
        version: 1,
        chunkId: 'refunds@1#0',
        chunkHash: sha256Hex('Refunds are paid within thirty days of purchase.'),
        score: expect.closeTo(1, 5) as number,
        text: 'Refunds are paid within thirty days of purchase.',
        title: 'Refund policy',
        headingPath: ['Refunds'],
        tags: ['policy', 'billing'],
      });
      expect(results[1].score).toBeCloseTo(0.8, 5);
    });

    it('replaces every chunk of the previous version when a new version is indexed', async () => {
      await store.replaceDocumentVersion({
        ...refundsV1,
        version: 2,
        chunks: [chunk('refunds@2#0', 'Refunds are paid within fourteen days.', [1, 0, 0, 0], ['Refunds'])],
      });
      const results = await store.query(query({ filter: { documentIds: ['refunds'] } }));
      expect(results.map((result) => [result.chunkId, result.version])).toEqual([['refunds@2#0', 2]]);
    });

    it('forgets a deleted document and only that one', async () => {
      await store.deleteDocument('acme', 'refunds');
      const results = await store.query(query({}));
      expect(results.map((result) => result.documentId)).toEqual(['shipping']);
      const globex = await store.query(query({ tenant: 'globex' }));
      expect(globex.map((result) => result.title)).toEqual(['Globex refunds']);
    });

    it("never returns another tenant's chunks", async () => {
      const results = await store.query(query({ tenant: 'globex', mode: 'hybrid' }));
      expect(results).toHaveLength(1);
      expect(results[0].title).toBe('Globex refunds');
      expect(await store.query(query({ tenant: 'initech' }))).toEqual([]);
    });

    it('narrows by document, by pinned version and by every tag', async () => {
      const byDocument = await store.query(query({ filter: { documentIds: ['shipping'] } }));
      expect(byDocument.map((result) => result.chunkId)).toEqual(['shipping@4#0']);
      const pinned = await store.query(
        query({ filter: { versions: [{ documentId: 'shipping', version: 4 }] } }),
      );
      expect(pinned.map((result) => result.chunkId)).toEqual(['shipping@4#0']);
      const notCurrent = await store.query(
        query({ filter: { versions: [{ documentId: 'refunds', version: 7 }] } }),
      );
      expect(notCurrent).toEqual([]);
      const tagged = await store.query(query({ filter: { tags: ['policy', 'billing'] } }));
      expect(new Set(tagged.map((result) => result.documentId))).toEqual(new Set(['refunds']));
      expect(await store.query(query({ filter: { tags: ['policy', 'logistics'] } }))).toEqual([]);
    });

    it('ranks sparse matches by BM25 with IDF, returning only chunks that share a term', async () => {
      const results = await store.query(
        query({ mode: 'sparse', sparse: bm25QueryVector('gift cards refunded') }),
      );
      // "gift" and "card" occur once in the index, "refund" in three chunks (one of them globex's): the gift-card chunk wins.
      expect(results[0].chunkId).toBe('refunds@1#2');
      expect(results.map((result) => result.chunkId).sort()).toEqual(['refunds@1#0', 'refunds@1#2']);
    });

    it('shows a search running during re-indexing one whole version of the document, never a mix, never none', async () => {
      const sections = 5;
      const handbook = (version: number): DocumentVersionEntry => ({
        tenant: 'acme',
        documentId: 'handbook',
        version,
        title: 'Support handbook',
        tags: ['handbook'],
        chunks: Array.from({ length: sections }, (_, i) =>
          chunk(
            `handbook@${version}#${i}`,
            `Handbook section ${i}, version ${version}: refunds go through support.`,
            [1, 0.1 * i, 0, 0.01 * version],
          ),
        ),
      });
      const yieldTurn = () => new Promise((resolve) => setImmediate(resolve));
      await store.replaceDocumentVersion(handbook(1));
      let writing = true;
      const writer = (async () => {
        for (let version = 2; version <= 6; version++) {
          await store.replaceDocumentVersion(handbook(version));
          await yieldTurn();
        }
        writing = false;
      })();
      const answers: number[][] = [];
      while (writing) {
        const rounds = await Promise.all(
          (['dense', 'sparse', 'hybrid'] as const).map((mode) =>
            store.query(
              query({
                mode,
                sparse: bm25QueryVector('handbook refunds support'),
                limit: 3 * sections,
                filter: { documentIds: ['handbook'] },
              }),
            ),
          ),
        );
        answers.push(...rounds.map((results) => results.map((result) => result.version)));
        await yieldTurn();
      }
      await writer;
      for (const versions of answers) {
        expect(versions).toHaveLength(sections);
        expect(new Set(versions).size).toBe(1);
      }
      // The searches did run while versions changed: they saw more than the first and the last.
      expect(new Set(answers.map((versions) => versions[0])).size).toBeGreaterThan(1);
      const settled = await store.query(query({ filter: { documentIds: ['handbook'] }, limit: 3 * sections }));
      expect(settled.map((result) => result.version)).toEqual(Array<number>(sections).fill(6));
    }, 60_000);

    it('fuses dense and sparse rankings by RRF: first in both scores 1/2 + 1/2', async () => {
      const results = await store.query(
        query({ mode: 'hybrid', sparse: bm25QueryVector('refunds paid thirty days') }),
      );
      expect(results[0].chunkId).toBe('refunds@1#0');
      expect(results[0].score).toBeCloseTo(1, 6);
      expect(results.map((result) => result.documentId)).toContain('shipping');
    });
  });
}
