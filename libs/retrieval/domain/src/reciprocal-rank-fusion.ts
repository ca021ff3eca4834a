/** Qdrant's default RRF constant (`DEFAULT_RRF_K` in lib/segment's score fusion). */
export const qdrantRrfK = 2;

export interface FusedScore {
  readonly id: string;
  readonly score: number;
}

/**
 * Reciprocal rank fusion as Qdrant computes it: each ranking adds `1 / (k + position)` with zero-based
 * positions, so a first place is worth 1/2 by default. Ties, which Qdrant leaves in no defined order, are
 * broken by id so that equal inputs always give equal outputs.
 */
export function fuseByReciprocalRank(
  rankings: readonly (readonly string[])[],
  k: number = qdrantRrfK,
): FusedScore[] {
  const scores = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, position) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + position)));
  }
  return [...scores]
    .map(([id, score]) => ({ id, score }))
    .sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}
