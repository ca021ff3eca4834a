import { type ErrorCatalog, KeelError } from '@keel/errors';

/** Why the decisioning service refused an event. */
export type DecisioningServiceErrorCode =
  /** A decision request the workflow could not have meant: no step, no run. */
  'invalid-request';

/**
 * The consumer does what this catalog says (`keel_dlq_code` carries the code): a request that can never be
 * answered is dead-lettered at once. Postgres and Kafka failures are no `KeelError` and are retried or waited out.
 */
export const decisioningServiceErrors = {
  httpStatus: { 'invalid-request': 400 },
  consumerHandling: { 'invalid-request': 'dead-letter' },
} as const satisfies ErrorCatalog<DecisioningServiceErrorCode>;

export class DecisioningServiceError extends KeelError<DecisioningServiceErrorCode> {
  constructor(code: DecisioningServiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, decisioningServiceErrors, options);
  }
}
