import { type ErrorCatalog, KeelError } from '@keel/errors';

/**
 * Misuse of the engine by its caller, as opposed to anything that can happen to an instance (those become
 * events and statuses). The shell should treat these as bugs or poison messages, not retry them.
 */
export type WorkflowEngineErrorCode =
  /** The definition passed is not the one the instance is pinned to. */
  | 'definition-mismatch'
  /** A non-`start` input arrived for an instance that has no state yet. */
  | 'not-started'
  /** The input does not match `workflowInputSchema`, or `now` is not a valid date. */
  | 'invalid-input';

/**
 * A definition mismatch is the service's own fault (it resolved the wrong definition), never the caller's:
 * 500, and a consumer retries it like any other failure of its own. The others are the request's fault.
 */
export const workflowEngineErrors = {
  httpStatus: { 'definition-mismatch': 500, 'not-started': 409, 'invalid-input': 400 },
  consumerHandling: {
    'definition-mismatch': 'retry',
    'not-started': 'dead-letter',
    'invalid-input': 'dead-letter',
  },
} as const satisfies ErrorCatalog<WorkflowEngineErrorCode>;

export class WorkflowEngineError extends KeelError<WorkflowEngineErrorCode> {
  constructor(code: WorkflowEngineErrorCode, message: string) {
    super(code, message, workflowEngineErrors);
  }
}
