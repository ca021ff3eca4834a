/** Why retrieval could not do what it was asked; mapped once to HTTP status or DLQ reason by the service. */
export type RetrievalErrorCode =
  /** The embedder could not be reached or refused the request. */
  | 'embedder_unavailable'
  /** The embedder answered with something that is not the vectors asked for. */
  | 'embedding_malformed'
  /** The vector store could not be reached or refused the request. */
  | 'vector_store_unavailable'
  /** A version already indexed came again with other content (versions are immutable). */
  | 'version_conflict';

export class RetrievalError extends Error {
  constructor(
    readonly code: RetrievalErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetrievalError';
  }
}
