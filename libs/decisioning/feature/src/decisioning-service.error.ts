import { NonRetryableError } from '@keel/messaging';

/** Why the decisioning service refused an event. */
export const DecisioningServiceErrorCode = {
  /** A decision request the workflow could not have meant: no step, no run. */
  invalidRequest: 'invalid-request',
} as const;
export type DecisioningServiceErrorCode =
  (typeof DecisioningServiceErrorCode)[keyof typeof DecisioningServiceErrorCode];

export class DecisioningServiceError extends Error {
  constructor(
    readonly code: DecisioningServiceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecisioningServiceError';
  }
}

/**
 * The one place service errors meet the consumer: what can never succeed is dead-lettered, the rest (Postgres,
 * Kafka) is thrown as is and retried. Model and retrieval failures never get here: the agent falls back.
 */
export function asConsumerError(error: unknown): unknown {
  if (!(error instanceof DecisioningServiceError)) return error;
  switch (error.code) {
    case 'invalid-request':
      return new NonRetryableError(error.message, { cause: error });
  }
}
