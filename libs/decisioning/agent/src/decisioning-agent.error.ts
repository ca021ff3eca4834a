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

export class DecisioningAgentError extends Error {
  constructor(
    readonly code: DecisioningAgentErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DecisioningAgentError';
  }
}
