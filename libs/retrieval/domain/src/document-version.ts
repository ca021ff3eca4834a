/** What the index holds for a document: its current version and that version's content hash. */
export interface IndexedVersion {
  readonly version: number;
  readonly contentHash: string;
}

export type VersionDecision =
  /** Index it: first version, or newer than the current one (its chunks replace the current ones). */
  | 'index'
  /** The same version with the same content is already indexed: a redelivery. */
  | 'unchanged'
  /** Older than the current version: indexing it would bring back replaced text. */
  | 'stale'
  /** The same version with other content: versions are immutable, so this is refused. */
  | 'conflict';

/** Whether an incoming document version replaces what the index holds. */
export function decideVersion(
  current: IndexedVersion | undefined,
  incoming: IndexedVersion,
): VersionDecision {
  if (current === undefined || incoming.version > current.version) return 'index';
  if (incoming.version < current.version) return 'stale';
  return incoming.contentHash === current.contentHash ? 'unchanged' : 'conflict';
}
