import { type ErrorCatalog, KeelError } from '@keel/errors';

/** Why the replay gate or the drift monitor refused something. */
export type GovernanceQualityErrorCode =
  /** Promotion of a changed agent or guardrail policy without a replay against the production in force. */
  | 'replay-required'
  /** The release's replay is below its bar and no admin overrode it; `details` holds the figures. */
  | 'replay-gate-blocked'
  /** An override of a replay that passed, or of none. */
  | 'override-not-needed'
  /** A candidate artifact in the registry that its owner's loader refuses, so it cannot be replayed. */
  | 'unreplayable-release';

const qualityErrors = {
  httpStatus: {
    'replay-required': 409,
    'replay-gate-blocked': 409,
    'override-not-needed': 409,
    'unreplayable-release': 422,
  },
  consumerHandling: {
    'replay-required': 'dead-letter',
    'replay-gate-blocked': 'dead-letter',
    'override-not-needed': 'dead-letter',
    'unreplayable-release': 'dead-letter',
  },
} as const satisfies ErrorCatalog<GovernanceQualityErrorCode>;

export class GovernanceQualityError extends KeelError<GovernanceQualityErrorCode> {
  constructor(
    code: GovernanceQualityErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(code, message, qualityErrors, options);
  }
}
