import { serviceSchemaMigration } from '@keel/persistence';
import { QdrantVectorStore } from '@keel/retrieval-data-access';
import { bm25DocumentVector, type DocumentVersionEntry, sha256Hex } from '@keel/retrieval-domain';
import { type ScratchDatabase, scratchDatabase } from '@keel/testing';
import { QdrantClient } from '@qdrant/js-client-rest';
import { DataSource } from 'typeorm';
import { QdrantRestTestDouble } from '../../data-access/src/qdrant-rest.test-double';
import { describeVectorStoreContract } from '../../data-access/src/vector-store.contract';
import { retrievalIndexStateMigration } from './retrieval-index-state.migration';
import { PostgresVersionTransitions, VersionTransitionRepository } from './version-transition.repository';

/**
 * The Qdrant adapter with its version transitions in Postgres (as the service runs it), through the real
 * client against the REST test double of Qdrant: the vector store contract, re-indexing under concurrent
 * searches included, and a second process that reads the same transitions.
 */
const schema = 'retrieval_transitions';
let database: ScratchDatabase;
let dataSource: DataSource;

beforeAll(async () => {
  database = await scratchDatabase('keel_retrieval_transitions');
  // The migrations ledger in public: the schema itself is made by the first migration.
  dataSource = await new DataSource({
    type: 'postgres',
    url: database.url,
    migrations: [serviceSchemaMigration(schema), retrievalIndexStateMigration(schema)],
  }).initialize();
  await dataSource.runMigrations();
}, 60_000);

afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

const transitions = () => new PostgresVersionTransitions(dataSource, new VersionTransitionRepository(schema));

describeVectorStoreContract('the Qdrant vector store with transitions in Postgres', async () => {
  await dataSource.query(`DELETE FROM "${schema}"."version_transitions"`);
  const double = await QdrantRestTestDouble.start();
  const store = new QdrantVectorStore(new QdrantClient({ url: double.url, checkCompatibility: false }), {
    collection: 'contract',
    dimensions: 4,
    upsertBatchSize: 2,
    transitions: transitions(),
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

describe('version transitions shared through Postgres', () => {
  const version = (n: number): DocumentVersionEntry => ({
    tenant: 'acme',
    documentId: 'refunds',
    version: n,
    title: 'Refunds',
    tags: [],
    chunks: [0, 1].map((i) => {
      const text = `Refunds, part ${i}, version ${n}.`;
      return {
        chunkId: `refunds@${n}#${i}`,
        chunkHash: sha256Hex(text),
        text,
        headingPath: [],
        dense: [1, i, 0, 0],
        sparse: bm25DocumentVector(text),
      };
    }),
  });

  it('lets a second process search by a stopped one’s switch, and finish the clean-up it left at prepare', async () => {
    await dataSource.query(`DELETE FROM "${schema}"."version_transitions"`);
    const double = await QdrantRestTestDouble.start();
    const open = (graceMs: number) =>
      new QdrantVectorStore(new QdrantClient({ url: double.url, checkCompatibility: false }), {
        collection: 'shared',
        dimensions: 4,
        transitions: transitions(),
        graceMs,
      });
    const first = open(1000);
    await first.prepare();
    await first.replaceDocumentVersion(version(1));
    await first.close();
    // A process that stops before its clean-up: its grace outlasts the test (its timer does not hold the test).
    const stopped = open(600_000);
    await stopped.replaceDocumentVersion(version(2));
    const rows = await dataSource.query<{ state: string; version: number }[]>(
      `SELECT state, version FROM "${schema}"."version_transitions" WHERE tenant = 'acme'`,
    );
    expect(rows).toEqual([{ state: 'switched', version: 2 }]);

    const searcher = open(1000);
    await searcher.prepare();
    const seen = await searcher.query({
      tenant: 'acme',
      mode: 'dense',
      dense: [1, 0, 0, 0],
      limit: 10,
      prefetchLimit: 10,
      filter: {},
    });
    expect(seen.map((chunk) => chunk.chunkId).sort()).toEqual(['refunds@2#0', 'refunds@2#1']);
    await searcher.close();

    // The second process cleaned up from the row alone: the old points gone, the new ones published, the
    // transition settled.
    const cleanUps = double.bodiesOf('deletePoints').filter((body) =>
      JSON.stringify(body).includes('{"key":"version","range":{"lt":2}}'),
    );
    expect(cleanUps).toHaveLength(1);
    expect([...double.points.values()].map((point) => [point.payload.chunkId, point.payload.staged])).toEqual([
      ['refunds@2#0', false],
      ['refunds@2#1', false],
    ]);
    expect(await dataSource.query(`SELECT * FROM "${schema}"."version_transitions"`)).toEqual([]);
    await double.stop();
    expect(double.violations).toEqual([]);
  }, 60_000);
});
