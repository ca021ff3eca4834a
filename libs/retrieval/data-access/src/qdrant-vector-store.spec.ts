import { randomUUID } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { bm25DocumentVector, bm25QueryVector, sha256Hex } from '@keel/retrieval-domain';
import { QdrantRestTestDouble } from './qdrant-rest.test-double';
import { pointIdOf, QdrantVectorStore } from './qdrant-vector-store';
import { contractDimensions, describeVectorStoreContract } from './vector-store.contract';
import { InMemoryVersionTransitions } from './version-transitions';

const qdrantUrl = process.env.QDRANT_URL;

// Against a real Qdrant (compose has one): the same contract the embedded index passes, in a fresh collection.
if (qdrantUrl) {
  describeVectorStoreContract('the Qdrant vector store on a real server', () => {
    const client = new QdrantClient({ url: qdrantUrl, checkCompatibility: false });
    const collection = `keel-contract-${randomUUID()}`;
    const store = new QdrantVectorStore(client, {
      collection,
      dimensions: contractDimensions,
      transitions: new InMemoryVersionTransitions(),
      graceMs: 200,
    });
    return Promise.resolve({
      store,
      close: async () => {
        await store.close();
        await client.deleteCollection(collection);
      },
    });
  });
} else {
  it.todo('passes the vector store contract on a real Qdrant (set QDRANT_URL)');
}

// The same contract through the real client against the double, which searches naively by Qdrant's documented
// semantics: it checks the adapter's filters and its sequence of requests (re-indexing included), not Qdrant.
describeVectorStoreContract('the Qdrant vector store against the REST test double', async () => {
  const double = await QdrantRestTestDouble.start();
  const store = new QdrantVectorStore(new QdrantClient({ url: double.url, checkCompatibility: false }), {
    collection: 'contract',
    dimensions: contractDimensions,
    upsertBatchSize: 2,
    transitions: new InMemoryVersionTransitions(),
    graceMs: 1000,
  });
  return {
    store,
    close: async () => {
      await store.close();
      await double.stop();
      expect(double.violations).toEqual([]);
    },
  };
});

describe('the Qdrant vector store, checked against a REST test double of Qdrant', () => {
  let double: QdrantRestTestDouble;
  let store: QdrantVectorStore;
  let transitions: InMemoryVersionTransitions;

  beforeEach(async () => {
    double = await QdrantRestTestDouble.start();
    const client = new QdrantClient({ url: double.url, checkCompatibility: false });
    transitions = new InMemoryVersionTransitions();
    store = new QdrantVectorStore(client, {
      collection: 'knowledge',
      dimensions: 3,
      upsertBatchSize: 2,
      transitions,
      graceMs: 1000,
    });
  });

  afterEach(async () => {
    await store.close();
    await double.stop();
    expect(double.violations).toEqual([]);
  });

  const chunk = (chunkId: string, text: string) => ({
    chunkId,
    chunkHash: sha256Hex(text),
    text,
    headingPath: ['Refunds'],
    dense: [1, 0, 0],
    sparse: bm25DocumentVector(text),
  });

  it('creates a collection with named dense and IDF-weighted sparse vectors and a tenant index, once', async () => {
    await store.prepare();
    expect(double.bodiesOf('createCollection')).toEqual([
      { vectors: { dense: { size: 3, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'idf' } } },
    ]);
    expect(double.bodiesOf('createPayloadIndex')).toEqual([
      { field_name: 'tenant', field_schema: { type: 'keyword', is_tenant: true } },
      { field_name: 'documentId', field_schema: 'keyword' },
      { field_name: 'version', field_schema: 'integer' },
      { field_name: 'tags', field_schema: 'keyword' },
      { field_name: 'staged', field_schema: 'bool' },
    ]);
    await store.prepare();
    expect(double.bodiesOf('createCollection')).toHaveLength(1);
  });

  it('leaves alone a document switched again since, when a late clean-up from another process comes', async () => {
    const entry = (version: number) => ({
      tenant: 'acme',
      documentId: 'refunds',
      version,
      title: 'Refund policy',
      tags: [],
      chunks: [chunk(`refunds@${version}#0`, `Refunds, version ${version}.`)],
    });
    await store.replaceDocumentVersion(entry(1));
    await store.close();
    await store.replaceDocumentVersion(entry(2));
    // Another process boots while version 2's clean-up is pending and schedules it too, later.
    const late = new QdrantVectorStore(new QdrantClient({ url: double.url, checkCompatibility: false }), {
      collection: 'knowledge',
      dimensions: 3,
      transitions,
      graceMs: 2500,
    });
    await late.prepare();
    await store.close();
    await store.replaceDocumentVersion(entry(3));
    await store.close();
    const cleanUpsBefore = double.bodiesOf('deletePoints').length;
    await late.close();
    expect(double.bodiesOf('deletePoints')).toHaveLength(cleanUpsBefore);
    expect([...double.points.values()].map((point) => [point.payload.version, point.payload.staged])).toEqual([
      [3, false],
    ]);
  }, 30_000);

  it('upserts a version staged in batches, switches to it, then deletes the other versions and publishes it', async () => {
    await store.replaceDocumentVersion({
      tenant: 'acme',
      documentId: 'refunds',
      version: 2,
      title: 'Refund policy',
      tags: ['policy'],
      chunks: [
        chunk('refunds@2#0', 'Refunds in 14 days.'),
        chunk('refunds@2#1', 'Sale items are final.'),
        chunk('refunds@2#2', 'Gift cards are not refunded.'),
      ],
    });
    const upserts = double.requests.filter((request) => request.route === 'upsertPoints');
    expect(upserts.map((request) => (request.body as { points: unknown[] }).points.length)).toEqual([2, 1]);
    expect(upserts.every((request) => request.search.get('wait') === 'true')).toBe(true);
    const [first] = (upserts[0].body as { points: { id: string; vector: unknown; payload: unknown }[] })
      .points;
    expect(first).toEqual({
      id: pointIdOf('acme', 'refunds@2#0'),
      vector: { dense: [1, 0, 0], bm25: { ...bm25DocumentVector('Refunds in 14 days.') } },
      payload: {
        tenant: 'acme',
        documentId: 'refunds',
        version: 2,
        chunkId: 'refunds@2#0',
        chunkHash: sha256Hex('Refunds in 14 days.'),
        text: 'Refunds in 14 days.',
        title: 'Refund policy',
        headingPath: ['Refunds'],
        tags: ['policy'],
        staged: true,
      },
    });
    // Switched as soon as the points are in; the old points stay until the grace has passed.
    expect(await transitions.ofTenant('acme')).toEqual([
      { documentId: 'refunds', state: 'switched', version: 2 },
    ]);
    expect(double.bodiesOf('deletePoints')).toEqual([]);
    await store.close();
    const document = [
      { key: 'tenant', match: { value: 'acme' } },
      { key: 'documentId', match: { value: 'refunds' } },
    ];
    expect(double.requests.slice(-2).map((request) => [request.route, request.body])).toEqual([
      ['deletePoints', { filter: { must: [...document, { key: 'version', range: { lt: 2 } }] } }],
      [
        'setPayload',
        { payload: { staged: false }, filter: { must: [...document, { key: 'version', match: { value: 2 } }] } },
      ],
    ]);
    expect(await transitions.ofTenant('acme')).toEqual([]);
  });

  it('asks for a hybrid search as prefetches fused by RRF, the whole filter on each prefetch', async () => {
    double.scriptedPoints = [
      {
        id: pointIdOf('acme', 'refunds@2#0'),
        score: 0.83,
        payload: {
          tenant: 'acme',
          documentId: 'refunds',
          version: 2,
          chunkId: 'refunds@2#0',
          chunkHash: sha256Hex('Refunds in 14 days.'),
          text: 'Refunds in 14 days.',
          title: 'Refund policy',
          headingPath: ['Refunds'],
          tags: ['policy'],
        },
      },
    ];
    await transitions.record('acme', { documentId: 'refunds', state: 'switched', version: 2 });
    await transitions.record('acme', { documentId: 'returns', state: 'deleted' });
    const results = await store.query({
      tenant: 'acme',
      mode: 'hybrid',
      dense: [0, 1, 0],
      sparse: bm25QueryVector('refund window'),
      limit: 5,
      prefetchLimit: 50,
      filter: {
        documentIds: ['refunds'],
        versions: [{ documentId: 'refunds', version: 2 }],
        tags: ['policy', 'billing'],
      },
    });
    const filter = {
      must: [
        { key: 'tenant', match: { value: 'acme' } },
        { key: 'documentId', match: { any: ['refunds'] } },
        {
          should: [
            {
              must: [
                { key: 'documentId', match: { value: 'refunds' } },
                { key: 'version', match: { value: 2 } },
              ],
            },
          ],
        },
        { key: 'tags', match: { value: 'policy' } },
        { key: 'tags', match: { value: 'billing' } },
      ],
      must_not: [
        {
          must: [{ key: 'staged', match: { value: true } }],
          must_not: [{ key: 'documentId', match: { any: ['refunds'] } }],
        },
        {
          must: [{ key: 'documentId', match: { value: 'refunds' } }],
          must_not: [{ key: 'version', match: { value: 2 } }],
        },
        { key: 'documentId', match: { any: ['returns'] } },
      ],
    };
    expect(double.bodiesOf('queryPoints')).toEqual([
      {
        prefetch: [
          { query: [0, 1, 0], using: 'dense', filter, limit: 50 },
          { query: { ...bm25QueryVector('refund window') }, using: 'bm25', filter, limit: 50 },
        ],
        query: { fusion: 'rrf' },
        limit: 5,
        with_payload: true,
        with_vector: false,
      },
    ]);
    expect(results).toEqual([
      {
        documentId: 'refunds',
        version: 2,
        chunkId: 'refunds@2#0',
        chunkHash: sha256Hex('Refunds in 14 days.'),
        score: 0.83,
        text: 'Refunds in 14 days.',
        title: 'Refund policy',
        headingPath: ['Refunds'],
        tags: ['policy'],
      },
    ]);
  });

  it('searches densely alone when the query has only stopwords, and deletes a document by tenant and id after hiding it', async () => {
    await store.query({
      tenant: 'acme',
      mode: 'hybrid',
      dense: [1, 0, 0],
      sparse: bm25QueryVector('what is the'),
      limit: 3,
      prefetchLimit: 9,
      filter: {},
    });
    const [body] = double.bodiesOf('queryPoints') as { prefetch: { using: string }[] }[];
    expect(body.prefetch.map((prefetch) => prefetch.using)).toEqual(['dense']);
    await store.deleteDocument('acme', 'refunds');
    expect(await transitions.ofTenant('acme')).toEqual([{ documentId: 'refunds', state: 'deleted' }]);
    await store.close();
    expect(await transitions.ofTenant('acme')).toEqual([]);
    expect(double.bodiesOf('deletePoints')).toEqual([
      {
        filter: {
          must: [
            { key: 'tenant', match: { value: 'acme' } },
            { key: 'documentId', match: { value: 'refunds' } },
          ],
        },
      },
    ]);
  });
});
