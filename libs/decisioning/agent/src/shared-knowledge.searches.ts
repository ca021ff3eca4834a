import { type KnowledgeChunk } from '@keel/decisioning-domain';
import { type KnowledgeSearch } from './ports';

type Query = Parameters<KnowledgeSearch['search']>[0];

/**
 * Identical searches in flight at once share one call: the worker decides a batch of triggers concurrently, and
 * triggers of one kind ask the same question (the offline planner's query is the case and event type), so a
 * burst would otherwise send retrieval the same query once per case. Only searches in flight are shared —
 * nothing is kept once the call answers — so a search never sees knowledge older than one that started before
 * it asked. A failure reaches every search that shared the call, as it would have reached each alone.
 */
export class SharedKnowledgeSearches implements KnowledgeSearch {
  private readonly inFlight = new Map<string, Promise<readonly KnowledgeChunk[]>>();

  constructor(private readonly knowledge: KnowledgeSearch) {}

  search(query: Query): Promise<readonly KnowledgeChunk[]> {
    const key = JSON.stringify([query.tenant, query.query, query.limit]);
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const call = this.knowledge.search(query).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }
}
