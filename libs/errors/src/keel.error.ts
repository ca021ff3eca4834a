/**
 * What a Kafka consumer does with a record whose handler threw: try again with backoff until its attempts
 * run out (`retry`), dead-letter it now (`dead-letter`), or hold the partition and try again until it
 * succeeds without spending attempts (`wait`) — for what another part of the platform is about to provide
 * (a definition version a replica is still publishing), which the record must not be lost for.
 */
export type ConsumerHandling = 'retry' | 'dead-letter' | 'wait';

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

/** Whether `error` is a `KeelError` of any module, typed so its code is a string (not `any`). */
export function isKeelError(error: unknown): error is KeelError {
  return error instanceof KeelError;
}
