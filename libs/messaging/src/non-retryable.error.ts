import { type ErrorCatalog, KeelError } from '@keel/errors';

const nonRetryableErrors = {
  httpStatus: { 'non-retryable': 422 },
  consumerHandling: { 'non-retryable': 'dead-letter' },
} as const satisfies ErrorCatalog<'non-retryable'>;

/**
 * Thrown by a handler when retrying cannot help (the record itself is wrong) and it has no error of its own
 * module to say why: it goes to the DLQ at once. A module's own `KeelError` with a dead-letter code does the
 * same and names the code.
 */
export class NonRetryableError extends KeelError<'non-retryable'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('non-retryable', message, nonRetryableErrors, options);
  }
}
