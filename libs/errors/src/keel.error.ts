/** What a Kafka consumer does with a record whose handler threw: try again later, or dead-letter it now. */
export type ConsumerHandling = 'retry' | 'dead-letter';

/**
 * A module's error codes with what each means at the edges: the HTTP status an API answers with, and what a
 * consumer does with the record. Declared with `satisfies ErrorCatalog<Code>`, so a new code that is missing
 * from either table does not compile.
 */
export interface ErrorCatalog<Code extends string> {
  readonly httpStatus: Readonly<Record<Code, number>>;
  readonly consumerHandling: Readonly<Record<Code, ConsumerHandling>>;
}

/**
 * The one base of Keel's errors: a typed code (kebab-case, stable, shown to API clients and written to the
 * `keel_dlq_code` header) and the module's catalog, so every transport maps it the same way without a
 * switch of its own.
 */
export abstract class KeelError<Code extends string = string> extends Error {
  protected constructor(
    readonly code: Code,
    message: string,
    private readonly catalog: ErrorCatalog<Code>,
    options?: { readonly cause?: unknown; readonly details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.details !== undefined) this.details = options.details;
  }

  /** Structured context for API clients (e.g. the list of violations); never a stack. */
  readonly details?: unknown;

  get httpStatus(): number {
    return this.catalog.httpStatus[this.code];
  }

  get consumerHandling(): ConsumerHandling {
    return this.catalog.consumerHandling[this.code];
  }
}
