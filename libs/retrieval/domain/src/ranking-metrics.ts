/** Graded judgements of one query: document id → relevance (≤ 0 is not relevant), as in BEIR qrels. */
export type Judgements = ReadonlyMap<string, number>;

export interface ScoredDocument {
  readonly documentId: string;
  readonly score: number;
}

// trec_eval (and so pytrec_eval and BEIR) ranks by score, ties by document id descending.
function rankedIds(run: readonly ScoredDocument[]): string[] {
  return [...run]
    .sort(
      (x, y) => y.score - x.score || (x.documentId < y.documentId ? 1 : x.documentId > y.documentId ? -1 : 0),
    )
    .map((entry) => entry.documentId);
}

/** trec_eval's `ndcg_cut.k`: linear gains (the relevance grade), log2(rank + 1) discount, ideal from all judgements. */
export function ndcgAt(k: number, run: readonly ScoredDocument[], judgements: Judgements): number {
  const gain = (id: string) => Math.max(0, judgements.get(id) ?? 0);
  const dcg = rankedIds(run)
    .slice(0, k)
    .reduce((sum, id, rank) => sum + gain(id) / Math.log2(rank + 2), 0);
  const ideal = [...judgements.values()]
    .filter((grade) => grade > 0)
    .sort((x, y) => y - x)
    .slice(0, k)
    .reduce((sum, grade, rank) => sum + grade / Math.log2(rank + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** trec_eval's `recall.k`: relevant documents (grade ≥ 1) in the top k over all relevant documents. */
export function recallAt(k: number, run: readonly ScoredDocument[], judgements: Judgements): number {
  const relevant = [...judgements].filter(([, grade]) => grade >= 1).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(rankedIds(run).slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

export interface RetrievalQuality {
  readonly ndcgAt10: number;
  readonly recallAt100: number;
  readonly queries: number;
}

/**
 * Mean nDCG@10 and recall@100 over the judged queries that have a run, as BEIR's `EvaluateRetrieval.evaluate`
 * reports them (pytrec_eval per query, arithmetic mean), with BEIR's default of ignoring a document whose id
 * equals the query id.
 */
export function retrievalQuality(
  runs: ReadonlyMap<string, readonly ScoredDocument[]>,
  qrels: ReadonlyMap<string, Judgements>,
): RetrievalQuality {
  let ndcg = 0;
  let recall = 0;
  let queries = 0;
  for (const [queryId, judgements] of qrels) {
    const run = runs.get(queryId)?.filter((entry) => entry.documentId !== queryId);
    if (run === undefined) continue;
    ndcg += ndcgAt(10, run, judgements);
    recall += recallAt(100, run, judgements);
    queries += 1;
  }
  return queries === 0
    ? { ndcgAt10: 0, recallAt100: 0, queries }
    : { ndcgAt10: ndcg / queries, recallAt100: recall / queries, queries };
}
