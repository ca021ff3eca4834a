import { type ErrorCatalog, KeelError } from '@keel/errors';

/** Why the agent runtime could not use a port or a record. */
export type DecisioningAgentErrorCode =
  /** The model call failed: timeout, HTTP error, connection refused, or the circuit breaker is open. */
  | 'model-unavailable'
  /** The model answered, but not with one valid call of an offered tool. */
  | 'model-output-invalid'
  /** The knowledge search failed or answered outside the contract. */
  | 'knowledge-unavailable'
  /** A replayed decision asked something its record does not hold: code or versions changed. */
  | 'replay-diverged';

/**
 * Model and knowledge failures are the far side's and pass (503/502, retried) — though the agent falls back to
 * the offline planner or decides without knowledge before any reaches a consumer. A diverged replay can never
 * succeed with the same record and artifacts: 409, dead-lettered.
 */
export const decisioningAgentErrors = {
  httpStatus: {
    'model-unavailable': 503,
    'model-output-invalid': 502,
    'knowledge-unavailable': 503,
    'replay-diverged': 409,
  },
  consumerHandling: {
    'model-unavailable': 'retry',
    'model-output-invalid': 'retry',
    'knowledge-unavailable': 'retry',
    'replay-diverged': 'dead-letter',
  },
} as const satisfies ErrorCatalog<DecisioningAgentErrorCode>;

export class DecisioningAgentError extends KeelError<DecisioningAgentErrorCode> {
  constructor(code: DecisioningAgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, decisioningAgentErrors, options);
  }
}
