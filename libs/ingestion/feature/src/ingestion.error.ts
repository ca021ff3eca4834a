import type { Violation } from '@keel/contracts';
import { type ErrorCatalog, KeelError } from '@keel/errors';
import type { RejectionCode } from '@keel/ingestion-domain';

/** Why ingestion refused a source event (its own fault) or could not take it now (the platform's). */
export type IngestionErrorCode = RejectionCode | 'store-unavailable' | 'publishing-stalled';

export const ingestionErrors = {
  httpStatus: {
    'invalid-request': 400,
    'payload-too-deep': 400,
    'unknown-source': 422,
    'unknown-schema-version': 422,
    'unknown-event-type': 422,
    'invalid-payload': 422,
    unmappable: 422,
    'store-unavailable': 503,
    'publishing-stalled': 503,
  },
  consumerHandling: {
    'invalid-request': 'dead-letter',
    'payload-too-deep': 'dead-letter',
    'unknown-source': 'dead-letter',
    'unknown-schema-version': 'dead-letter',
    'unknown-event-type': 'dead-letter',
    'invalid-payload': 'dead-letter',
    unmappable: 'dead-letter',
    'store-unavailable': 'retry',
    'publishing-stalled': 'retry',
  },
} as const satisfies ErrorCatalog<IngestionErrorCode>;

export class IngestionError extends KeelError<IngestionErrorCode> {
  constructor(
    code: IngestionErrorCode,
    message: string,
    options?: { cause?: unknown; violations?: readonly Violation[] },
  ) {
    super(code, message, ingestionErrors, {
      cause: options?.cause,
      ...(options?.violations ? { details: { violations: options.violations } } : {}),
    });
  }

  get violations(): readonly Violation[] {
    return (this.details as { violations?: readonly Violation[] } | undefined)?.violations ?? [];
  }
}

/**
 * What a consumer handler throws for an ingestion error: the error itself, whose catalog tells the consumer
 * to dead-letter or retry it (`keel_dlq_code` = its code). A dead letter's `keel_dlq_error` is the error's
 * message, so for a rejection the message is restated with every violation in it (`message (path: reason; …)`).
 */
export function forConsumer(error: IngestionError): IngestionError {
  if (error.consumerHandling !== 'dead-letter' || error.violations.length === 0) return error;
  const where = error.violations.map((violation) => `${violation.path}: ${violation.message}`).join('; ');
  return new IngestionError(error.code, `${error.message} (${where})`, {
    cause: error,
    violations: error.violations,
  });
}
