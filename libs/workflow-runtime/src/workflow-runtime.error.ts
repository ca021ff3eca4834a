import { type ErrorCatalog, KeelError } from '@keel/errors';

/** Why the workflow service refused a request; mapped by its catalog to an HTTP status or a consumer's handling. */
export type WorkflowRuntimeErrorCode =
  | 'unknown-workflow'
  /** A version of a known workflow that no replica has stored (yet): the replica publishing it may be starting. */
  | 'unknown-version'
  | 'unknown-instance'
  | 'definition-conflict'
  | 'invalid-request'
  | 'not-applicable';

/**
 * An unknown version is waited for by a consumer (held, never dead-lettered: the record is valid, the
 * definition is on its way); everything else names what does not exist or cannot apply, and never will.
 */
export const workflowRuntimeErrors = {
  httpStatus: {
    'unknown-workflow': 404,
    'unknown-version': 404,
    'unknown-instance': 404,
    'definition-conflict': 409,
    'invalid-request': 400,
    'not-applicable': 409,
  },
  consumerHandling: {
    'unknown-workflow': 'dead-letter',
    'unknown-version': 'wait',
    'unknown-instance': 'dead-letter',
    'definition-conflict': 'dead-letter',
    'invalid-request': 'dead-letter',
    'not-applicable': 'dead-letter',
  },
} as const satisfies ErrorCatalog<WorkflowRuntimeErrorCode>;

export class WorkflowRuntimeError extends KeelError<WorkflowRuntimeErrorCode> {
  constructor(code: WorkflowRuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, workflowRuntimeErrors, options);
  }
}
