/** Why the decisioning domain refused something. */
export type DecisioningDomainErrorCode =
  /** A policy, agent policy or prompt artifact does not match its schema. */
  | 'invalid-artifact'
  /** A proposed tool is not one the agent knows. */
  | 'unknown-tool'
  /** A known tool the guardrail policy did not offer for this event. */
  | 'tool-not-offered'
  /** Tool arguments that are not JSON or do not match the tool's schema. */
  | 'invalid-arguments';

export class DecisioningDomainError extends Error {
  constructor(
    readonly code: DecisioningDomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecisioningDomainError';
  }
}
