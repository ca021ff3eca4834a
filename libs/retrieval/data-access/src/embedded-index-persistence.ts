import type { DocumentVersionEntry } from '@keel/retrieval-domain';

/**
 * Where the embedded index keeps what it needs to rebuild itself after a restart: each document's current
 * version with its chunks and both vectors. The service implements it over its Postgres schema
 * (`EmbeddedIndexRepository` in retrieval-feature); each call is its own committed transaction.
 */
export interface EmbeddedIndexPersistence {
  /** Every document's current version, as last saved. */
  load(): Promise<DocumentVersionEntry[]>;
  /** Replaces the document's stored version and chunks with this one, in one transaction. */
  saveVersion(entry: DocumentVersionEntry): Promise<void>;
  deleteDocument(tenant: string, documentId: string): Promise<void>;
}
