import { type ErrorCatalog, KeelError } from '@keel/errors';

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

/** What each code means at the edges: the HTTP status of the query API and what the document inbox does. */
export const retrievalErrorCatalog = {
  httpStatus: {
    'invalid-request': 400,
    'version-conflict': 409,
    'embedding-malformed': 502,
    'embedder-unavailable': 503,
    'vector-store-unavailable': 503,
  },
  consumerHandling: {
    'invalid-request': 'dead-letter',
    'version-conflict': 'dead-letter',
    'embedding-malformed': 'retry',
    'embedder-unavailable': 'retry',
    'vector-store-unavailable': 'retry',
  },
} as const satisfies ErrorCatalog<RetrievalErrorCode>;

export class RetrievalError extends KeelError<RetrievalErrorCode> {
  constructor(code: RetrievalErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, retrievalErrorCatalog, options);
  }
}
