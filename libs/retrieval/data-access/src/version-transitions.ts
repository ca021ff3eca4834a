/**
 * A document of one tenant in the middle of a change in a store that cannot change it in one step (Qdrant):
 * `switched` — only `version` may be seen, whatever else of the document the store still holds; `deleted` —
 * nothing of the document may be seen. Searches turn these into filters; the row goes when the store has
 * caught up (old points deleted, new ones published).
 */
export type VersionTransition =
  | { readonly documentId: string; readonly state: 'switched'; readonly version: number }
  | { readonly documentId: string; readonly state: 'deleted' };

export interface TenantTransition {
  readonly tenant: string;
  readonly transition: VersionTransition;
}

/**
 * Where the Qdrant adapter keeps its documents in transition, shared by every process that searches the same
 * collection: the service keeps them in its Postgres schema (`VersionTransitionRepository` in
 * retrieval-feature); tests and single-process tools use `InMemoryVersionTransitions`. Each call commits.
 */
export interface VersionTransitions {
  /** The tenant's documents in transition: what every search of the tenant filters by. */
  ofTenant(tenant: string): Promise<VersionTransition[]>;
  /** Every tenant's, for finishing what a stopped process left half done. */
  all(): Promise<TenantTransition[]>;
  /** Records the document's transition, replacing the one it had. */
  record(tenant: string, transition: VersionTransition): Promise<void>;
  /** Removes the document's transition if it is still this one (a newer one stays). */
  settle(tenant: string, transition: VersionTransition): Promise<void>;
}

/** `VersionTransitions` in memory: for tests and for a single process that needs no restart recovery. */
export class InMemoryVersionTransitions implements VersionTransitions {
  private readonly byTenant = new Map<string, Map<string, VersionTransition>>();

  ofTenant(tenant: string): Promise<VersionTransition[]> {
    return Promise.resolve([...(this.byTenant.get(tenant)?.values() ?? [])]);
  }

  all(): Promise<TenantTransition[]> {
    return Promise.resolve(
      [...this.byTenant].flatMap(([tenant, documents]) =>
        [...documents.values()].map((transition) => ({ tenant, transition })),
      ),
    );
  }

  record(tenant: string, transition: VersionTransition): Promise<void> {
    let documents = this.byTenant.get(tenant);
    if (documents === undefined) {
      documents = new Map();
      this.byTenant.set(tenant, documents);
    }
    documents.set(transition.documentId, transition);
    return Promise.resolve();
  }

  settle(tenant: string, transition: VersionTransition): Promise<void> {
    const documents = this.byTenant.get(tenant);
    const current = documents?.get(transition.documentId);
    if (current !== undefined && sameTransition(current, transition)) documents?.delete(transition.documentId);
    return Promise.resolve();
  }
}

export function sameTransition(x: VersionTransition, y: VersionTransition): boolean {
  return (
    x.documentId === y.documentId &&
    x.state === y.state &&
    (x.state === 'deleted' || (y.state === 'switched' && x.version === y.version))
  );
}
