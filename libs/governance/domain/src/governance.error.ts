import { type ErrorCatalog, KeelError } from '@keel/errors';

/** Why governance refused something: the one catalog its API and consumers map from. */
export type GovernanceErrorCode =
  /** Request body, path or query outside its schema. */
  | 'invalid-request'
  /** Artifact content its kind's validator refused; `details` lists every problem. */
  | 'invalid-artifact'
  /** No artifact, version, release or API key by that name in the caller's tenant. */
  | 'not-found'
  /** A release names a version that is not in the registry, or one of the wrong kind. */
  | 'unknown-version'
  /** A lifecycle step the release's state does not allow (e.g. promoting a draft). */
  | 'invalid-transition'
  /** The author tried to approve their own release, or a requester their own approval. */
  | 'four-eyes'
  /** Rollback with no earlier production release to return to. */
  | 'nothing-to-roll-back'
  /** An API key that is unknown, revoked or does not match. */
  | 'invalid-api-key'
  /** The audit chain does not verify, so it is not pruned (the cut would hide the break). */
  | 'chain-broken'
  /** An approval that is no longer pending (answered or withdrawn). */
  | 'not-pending'
  /** Postgres or Kafka did not take the change; nothing was applied. */
  | 'store-unavailable';

const governanceErrors = {
  httpStatus: {
    'invalid-request': 400,
    'invalid-artifact': 422,
    'not-found': 404,
    'unknown-version': 422,
    'invalid-transition': 409,
    'four-eyes': 403,
    'nothing-to-roll-back': 409,
    'invalid-api-key': 401,
    'chain-broken': 409,
    'not-pending': 409,
    'store-unavailable': 503,
  },
  consumerHandling: {
    'invalid-request': 'dead-letter',
    'invalid-artifact': 'dead-letter',
    'not-found': 'dead-letter',
    'unknown-version': 'dead-letter',
    'invalid-transition': 'dead-letter',
    'four-eyes': 'dead-letter',
    'nothing-to-roll-back': 'dead-letter',
    'invalid-api-key': 'dead-letter',
    'chain-broken': 'dead-letter',
    'not-pending': 'dead-letter',
    'store-unavailable': 'retry',
  },
} as const satisfies ErrorCatalog<GovernanceErrorCode>;

export class GovernanceError extends KeelError<GovernanceErrorCode> {
  constructor(code: GovernanceErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(code, message, governanceErrors, options);
  }
}
