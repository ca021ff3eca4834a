import { type KnowledgeChunk } from '@keel/decisioning-domain';
import { type KnowledgeSearch } from './ports';

type Query = Parameters<KnowledgeSearch['search']>[0];

export interface SharedKnowledgeSearchesOptions {
  /**
   * How long after its call started an answer serves identical searches (same tenant, text and limit); 0: only
   * searches in flight share a call.
   */
  readonly reuseMs: number;
  /** Answered searches held at most, the least recently started going first; calls in flight are not counted. */
  readonly capacity?: number;
  /** A monotonic clock in milliseconds: a wall clock stepped back would stretch the window. */
  readonly now?: () => number;
}

interface SharedCall {
  readonly startedAt: number;
  readonly answer: Promise<readonly KnowledgeChunk[]>;
  /** Answered: it serves searches until `reuseMs` after it started, no longer. */
  answered: boolean;
}

/**
 * Identical searches share one call: the worker decides a batch of triggers concurrently, and triggers of one
 * kind ask the same question (the offline planner's query is the case and event type), so a burst, or a steady
 * flow of one kind of case, would otherwise send retrieval the same query once per case. A search shares a call
 * in flight, or an answer whose call started at most `reuseMs` before it asked, so the knowledge it sees is at
 * most the longer of `reuseMs` and the call's timeout older than the index (ADR 0034). A failure reaches every
 * search that shared the call, as it would have reached each alone, and is never reused: the next search calls
 * again.
 */
export class SharedKnowledgeSearches implements KnowledgeSearch {
  /** By search, least recently started first. */
  private readonly calls = new Map<string, SharedCall>();
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(
    private readonly knowledge: KnowledgeSearch,
    private readonly options: SharedKnowledgeSearchesOptions,
  ) {
    this.capacity = options.capacity ?? 256;
    this.now = options.now ?? (() => performance.now());
  }

  search(query: Query): Promise<readonly KnowledgeChunk[]> {
    const key = JSON.stringify([query.tenant, query.query, query.limit]);
    const now = this.now();
    const shared = this.calls.get(key);
    if (shared && (!shared.answered || now - shared.startedAt <= this.options.reuseMs)) return shared.answer;
    const call: SharedCall = { startedAt: now, answer: this.knowledge.search(query), answered: false };
    this.calls.delete(key);
    this.calls.set(key, call);
    call.answer.then(
      () => {
        call.answered = true;
        if (this.options.reuseMs === 0) this.forget(key, call);
        else this.evictAnswered(this.now());
      },
      () => this.forget(key, call),
    );
    return call.answer;
  }

  private forget(key: string, call: SharedCall): void {
    if (this.calls.get(key) === call) this.calls.delete(key);
  }

  /** Drops answers past their window, then the oldest answers over `capacity`; calls in flight stay. */
  private evictAnswered(now: number): void {
    let answered = 0;
    for (const call of this.calls.values()) if (call.answered) answered += 1;
    for (const [key, call] of this.calls) {
      if (!call.answered) continue;
      if (now - call.startedAt <= this.options.reuseMs && answered <= this.capacity) continue;
      this.calls.delete(key);
      answered -= 1;
    }
  }
}
