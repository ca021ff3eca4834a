import { type ErrorCatalog, KeelError } from '@keel/errors';

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

/**
 * Every code names content that can never become valid by trying again: an artifact refused by its schema
 * (a release carrying one is dead-lettered, an API refuses it with 422), or a tool call outside the catalogue.
 * Tool-call codes do not reach a consumer in practice: the agent turns them into `model-output-invalid` and
 * falls back.
 */
export const decisioningDomainErrors = {
  httpStatus: {
    'invalid-artifact': 422,
    'unknown-tool': 422,
    'tool-not-offered': 422,
    'invalid-arguments': 422,
  },
  consumerHandling: {
    'invalid-artifact': 'dead-letter',
    'unknown-tool': 'dead-letter',
    'tool-not-offered': 'dead-letter',
    'invalid-arguments': 'dead-letter',
  },
} as const satisfies ErrorCatalog<DecisioningDomainErrorCode>;

export class DecisioningDomainError extends KeelError<DecisioningDomainErrorCode> {
  constructor(code: DecisioningDomainErrorCode, message: string) {
    super(code, message, decisioningDomainErrors);
  }
}
