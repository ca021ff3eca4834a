import { type Admission, SourceCatalog, type SourceSubmission } from '@keel/ingestion-domain';

/**
 * The source catalog in force, swapped whole when the stored set of schema versions changes: a submission
 * is admitted against one compiled catalog from start to end, and no restart is needed for a new version.
 */
export class LiveSourceCatalog {
  private current: SourceCatalog;

  constructor(
    definitions: readonly unknown[],
    private readonly options: { readonly maxPayloadDepth: number },
  ) {
    this.current = new SourceCatalog(definitions, options);
  }

  /** Compiles `definitions` into the catalog in force; throws (keeping the old one) if any cannot be used. */
  replace(definitions: readonly unknown[]): void {
    this.current = new SourceCatalog(definitions, this.options);
  }

  admit(submission: SourceSubmission): Promise<Admission> {
    return this.current.admit(submission);
  }

  list(): ReturnType<SourceCatalog['list']> {
    return this.current.list();
  }
}
