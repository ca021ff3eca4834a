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

export class WorkflowEngineError extends Error {
  constructor(
    readonly code: WorkflowEngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkflowEngineError';
  }
}
