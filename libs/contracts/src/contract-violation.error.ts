import { type ErrorCatalog, KeelError } from '@keel/errors';
import type { z } from 'zod';

/** One reason a record breaks its contract: where (a dotted path) and why. */
export interface Violation {
  readonly path: string;
  readonly message: string;
}

const contractViolationErrors = {
  httpStatus: { 'contract-violation': 400 },
  consumerHandling: { 'contract-violation': 'dead-letter' },
} as const satisfies ErrorCatalog<'contract-violation'>;

/**
 * A record or request body that does not satisfy its envelope or topic schema; lists every violation, not
 * just the first (also as `details.violations`, which the HTTP answer carries).
 */
export class ContractViolationError extends KeelError<'contract-violation'> {
  constructor(
    readonly subject: string,
    readonly violations: readonly Violation[],
  ) {
    super(
      'contract-violation',
      `${subject}: ${violations.map((v) => `${v.path}: ${v.message}`).join('; ')}`,
      contractViolationErrors,
      { details: { violations } },
    );
  }

  static fromZod(subject: string, error: z.ZodError, pathPrefix = ''): ContractViolationError {
    return new ContractViolationError(
      subject,
      error.issues.map((issue) => ({
        path: [pathPrefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)',
        message: issue.message,
      })),
    );
  }
}
