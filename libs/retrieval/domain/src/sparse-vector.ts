/** A sparse vector as Qdrant stores it: parallel arrays, indices unique. */
export interface SparseVector {
  readonly indices: readonly number[];
  readonly values: readonly number[];
}
