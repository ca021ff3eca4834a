/** Why the workflow service refused a request; mapped once to HTTP status (api) or a dead letter (consumers). */
export const WorkflowRuntimeErrorCode = {
  unknownWorkflow: 'unknown-workflow',
  /** A version of a known workflow that no replica has stored (yet): worth retrying, unlike the others. */
  unknownVersion: 'unknown-version',
  unknownInstance: 'unknown-instance',
  definitionConflict: 'definition-conflict',
  invalidRequest: 'invalid-request',
  notApplicable: 'not-applicable',
} as const;
export type WorkflowRuntimeErrorCode =
  (typeof WorkflowRuntimeErrorCode)[keyof typeof WorkflowRuntimeErrorCode];

export class WorkflowRuntimeError extends Error {
  constructor(
    readonly code: WorkflowRuntimeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkflowRuntimeError';
  }
}
