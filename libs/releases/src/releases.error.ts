import { type ErrorCatalog, KeelError } from '@keel/errors';

/** Why a release could not be applied (yet); mapped by the catalog to what the releases consumer does. */
export type ReleasesErrorCode =
  /** A release event without the release or its sequence: nothing to apply it by. */
  | 'incomplete-event'
  /** Governance did not answer, or answered 5xx/429: it is restarting or overloaded. */
  | 'governance-unavailable'
  /** Governance refused our API key or token (401/403): a deployment fault an operator fixes. */
  | 'governance-refused'
  /** Governance has no such artifact version in the release's tenant. */
  | 'artifact-missing'
  /** The content governance served is not what the release approved. */
  | 'hash-mismatch'
  /** The service cannot run what the release holds (e.g. a template version that clashes with a stored one). */
  | 'release-refused';

/**
 * A release must not be lost because governance is briefly away or a key is being rotated: those are held
 * (`wait`, no attempts spent), and applied as soon as governance answers. What can never apply — a release
 * whose content does not match its approved hash, or that the service refuses — is dead-lettered, and the
 * release in force stays in force.
 */
export const releasesErrors = {
  httpStatus: {
    'incomplete-event': 400,
    'governance-unavailable': 503,
    'governance-refused': 502,
    'artifact-missing': 422,
    'hash-mismatch': 422,
    'release-refused': 422,
  },
  consumerHandling: {
    'incomplete-event': 'dead-letter',
    'governance-unavailable': 'wait',
    'governance-refused': 'wait',
    'artifact-missing': 'dead-letter',
    'hash-mismatch': 'dead-letter',
    'release-refused': 'dead-letter',
  },
} as const satisfies ErrorCatalog<ReleasesErrorCode>;

export class ReleasesError extends KeelError<ReleasesErrorCode> {
  constructor(code: ReleasesErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(code, message, releasesErrors, options);
  }
}
