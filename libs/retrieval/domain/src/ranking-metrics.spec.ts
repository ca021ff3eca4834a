import { ndcgAt, recallAt, retrievalQuality } from './ranking-metrics';

const run = (...ids: string[]) => ids.map((documentId, rank) => ({ documentId, score: 10 - rank }));

describe('ranking metrics as pytrec_eval computes them', () => {
  it('computes nDCG@10 with linear gains and a log2 discount (hand-computed)', () => {
    // Ranked: d1 (2), d2 (0), d3 (1). DCG = 2/log2(2) + 0 + 1/log2(4) = 2.5.
    // Ideal: d1 (2), d3 (1), d4 (1) → 2 + 1/log2(3) + 1/log2(4) = 3.1309297535714578.
    const judgements = new Map([
      ['d1', 2],
      ['d3', 1],
      ['d4', 1],
      ['d5', 0],
    ]);
    expect(ndcgAt(10, run('d1', 'd2', 'd3'), judgements)).toBeCloseTo(2.5 / (2 + 1 / Math.log2(3) + 0.5), 12);
    expect(ndcgAt(10, run('d1', 'd2', 'd3'), judgements)).toBeCloseTo(0.7984846, 6);
  });

  it('cuts nDCG at k and breaks score ties by document id descending, as trec_eval does', () => {
    const judgements = new Map([['a', 1]]);
    const tied = [
      { documentId: 'a', score: 1 },
      { documentId: 'b', score: 1 },
    ];
    // 'b' ranks before 'a': DCG = 1/log2(3).
    expect(ndcgAt(10, tied, judgements)).toBeCloseTo(1 / Math.log2(3), 12);
    expect(ndcgAt(1, tied, judgements)).toBe(0);
  });

  it('computes recall@k over the documents judged relevant', () => {
    const judgements = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 0],
    ]);
    expect(recallAt(100, run('x', 'a', 'c'), judgements)).toBe(0.5);
    expect(recallAt(1, run('x', 'a', 'b'), judgements)).toBe(0);
  });

  it('averages over judged queries that were run and ignores a document named like its query', () => {
    const qrels = new Map([
      ['q1', new Map([['d1', 1]])],
      ['q2', new Map([['d2', 1]])],
      ['q3', new Map([['d3', 1]])],
    ]);
    const runs = new Map([
      ['q1', run('d1')],
      ['q2', run('q2', 'x', 'd2')],
    ]);
    const quality = retrievalQuality(runs, qrels);
    expect(quality.queries).toBe(2);
    expect(quality.ndcgAt10).toBeCloseTo((1 + 1 / Math.log2(3)) / 2, 12);
    expect(quality.recallAt100).toBe(1);
  });
});
