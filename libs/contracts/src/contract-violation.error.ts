import type { z } from 'zod';

/** One reason a record breaks its contract: where (a dotted path) and why. */
export interface Violation {
  readonly path: string;
  readonly message: string;
}

/** A record that does not satisfy its envelope or topic schema; lists every violation, not just the first. */
export class ContractViolationError extends Error {
  constructor(
    readonly subject: string,
    readonly violations: readonly Violation[],
  ) {
    super(`${subject}: ${violations.map((v) => `${v.path}: ${v.message}`).join('; ')}`);
    this.name = 'ContractViolationError';
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
