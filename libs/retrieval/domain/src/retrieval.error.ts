/** Why retrieval could not do what it was asked; mapped once to HTTP status (api) or a retry / dead letter (inbox). */
export const RetrievalErrorCode = {
  /** The embedder could not be reached or failed: worth retrying. */
  embedderUnavailable: 'embedder-unavailable',
  /** The embedder answered with something that is not the vectors asked for. */
  embeddingMalformed: 'embedding-malformed',
  /** The vector store could not be reached or refused the request: worth retrying. */
  vectorStoreUnavailable: 'vector-store-unavailable',
  /** A version already indexed came again with other content: versions are immutable. */
  versionConflict: 'version-conflict',
  /** The request itself is wrong (a query mode without the vector it needs). */
  invalidRequest: 'invalid-request',
} as const;
export type RetrievalErrorCode = (typeof RetrievalErrorCode)[keyof typeof RetrievalErrorCode];

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
