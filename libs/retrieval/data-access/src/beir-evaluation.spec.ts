import { join } from 'node:path';
import { type DenseEmbedder, KnowledgeRetrieval } from '@keel/retrieval-domain';
import { loadBeirDataset } from './beir-dataset';
import { evaluateBeir, indexBeirCorpus } from './beir-evaluation';
import { EmbeddedVectorIndex } from './embedded-vector-index';

const miniBeir = join(__dirname, '../../../../bench/fixtures/mini-beir');

// BM25 needs no dense model; hybrid and dense runs belong to bench/retrieval-quality.bench.ts.
const constantEmbedder: DenseEmbedder = {
  model: 'constant',
  dimensions: 1,
  embed: (texts) => Promise.resolve(texts.map(() => [1])),
};

describe('BEIR evaluation on the project’s mini-beir set', () => {
  it('reads CRLF qrels, keeps only judged queries, and drops query metadata', async () => {
    const dataset = await loadBeirDataset(miniBeir);
    expect(dataset.corpus).toHaveLength(24);
    expect(dataset.qrels.get('q1')).toEqual(
      new Map([
        ['d01', 2],
        ['d20', 1],
      ]),
    );
    expect(dataset.queries.size).toBe(8);
    expect(dataset.queries.get('q1')).toBe('how long do I have to return an item for my money back');
  });

  it('scores BM25 over the embedded index as BEIR does', async () => {
    const dataset = await loadBeirDataset(miniBeir);
    const retrieval = new KnowledgeRetrieval(new EmbeddedVectorIndex(), constantEmbedder);
    expect(await indexBeirCorpus(retrieval, dataset)).toBe(24);
    const quality = await evaluateBeir(retrieval, dataset, 'sparse');
    expect(quality.queries).toBe(8);
    // Lexical matching finds most answers in this set; synonyms ("broken" for "damaged") are what it misses.
    expect(quality.ndcgAt10).toBeGreaterThan(0.5);
    expect(quality.recallAt100).toBeGreaterThan(0.6);
  });
});
