import { type KnowledgeChunk } from '@keel/decisioning-domain';
import { type KnowledgeSearch } from './ports';
import { SharedKnowledgeSearches } from './shared-knowledge.searches';

const chunk: KnowledgeChunk = {
  documentId: 'routing',
  version: 1,
  chunkId: 'routing#1',
  chunkHash: 'h',
  score: 0.5,
  title: 'Routing',
  text: 'EU orders ship from Berlin.',
};

/** A search whose calls stay open until the test answers them. */
class HeldSearch implements KnowledgeSearch {
  readonly calls: Array<{
    query: Parameters<KnowledgeSearch['search']>[0];
    answer: (chunks: readonly KnowledgeChunk[]) => void;
    fail: (error: Error) => void;
  }> = [];

  search(query: Parameters<KnowledgeSearch['search']>[0]): Promise<readonly KnowledgeChunk[]> {
    return new Promise((answer, fail) => this.calls.push({ query, answer, fail }));
  }
}

describe('shared knowledge searches', () => {
  it('sends identical searches in flight at once as one call, and each gets its answer', async () => {
    const held = new HeldSearch();
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 1000 });
    const query = { tenant: 'acme', query: 'order order placed', limit: 3 };
    const first = shared.search(query);
    const second = shared.search({ ...query });
    held.calls[0]?.answer([chunk]);
    await expect(Promise.all([first, second])).resolves.toEqual([[chunk], [chunk]]);
    expect(held.calls).toHaveLength(1);
  });

  it('with no reuse window, keeps nothing: a search after the call answered makes a call of its own', async () => {
    const held = new HeldSearch();
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 0 });
    const query = { tenant: 'acme', query: 'q', limit: 3 };
    const first = shared.search(query);
    held.calls[0]?.answer([chunk]);
    await first;
    const second = shared.search(query);
    held.calls[1]?.answer([]);
    await expect(second).resolves.toEqual([]);
    expect(held.calls).toHaveLength(2);
  });

  it('does not share between tenants, texts or limits', () => {
    const held = new HeldSearch();
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 1000 });
    void shared.search({ tenant: 'acme', query: 'q', limit: 3 });
    void shared.search({ tenant: 'globex', query: 'q', limit: 3 });
    void shared.search({ tenant: 'acme', query: 'q2', limit: 3 });
    void shared.search({ tenant: 'acme', query: 'q', limit: 5 });
    expect(held.calls.map((call) => call.query)).toEqual([
      { tenant: 'acme', query: 'q', limit: 3 },
      { tenant: 'globex', query: 'q', limit: 3 },
      { tenant: 'acme', query: 'q2', limit: 3 },
      { tenant: 'acme', query: 'q', limit: 5 },
    ]);
  });

  it('hands a failure to every search that shared the call, and the next search tries again', async () => {
    const held = new HeldSearch();
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 1000 });
    const query = { tenant: 'acme', query: 'q', limit: 3 };
    const first = shared.search(query);
    const second = shared.search(query);
    held.calls[0]?.fail(new Error('retrieval answered HTTP 503'));
    await expect(first).rejects.toThrow('HTTP 503');
    await expect(second).rejects.toThrow('HTTP 503');
    const third = shared.search(query);
    held.calls[1]?.answer([chunk]);
    await expect(third).resolves.toEqual([chunk]);
  });

  it('answers a search within the reuse window after the call started with its answer, and calls again after it', async () => {
    const held = new HeldSearch();
    let now = 10_000;
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 1000, now: () => now });
    const query = { tenant: 'acme', query: 'order order placed', limit: 3 };
    const first = shared.search(query);
    now += 400;
    held.calls[0]?.answer([chunk]);
    await first;

    now += 600;
    await expect(shared.search(query)).resolves.toEqual([chunk]);
    expect(held.calls).toHaveLength(1);

    now += 1;
    const later = shared.search(query);
    expect(held.calls).toHaveLength(2);
    held.calls[1]?.answer([]);
    await expect(later).resolves.toEqual([]);
  });

  it('shares a call still in flight however long it has been open', async () => {
    const held = new HeldSearch();
    let now = 0;
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 1000, now: () => now });
    const query = { tenant: 'acme', query: 'q', limit: 3 };
    const first = shared.search(query);
    now += 5000;
    const second = shared.search(query);
    held.calls[0]?.answer([chunk]);
    await expect(Promise.all([first, second])).resolves.toEqual([[chunk], [chunk]]);
    expect(held.calls).toHaveLength(1);
  });

  it('shares every call in flight, however many there are beyond `capacity`', () => {
    const held = new HeldSearch();
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 1000, capacity: 1 });
    const ask = (text: string) => shared.search({ tenant: 'acme', query: text, limit: 3 });
    void ask('a');
    void ask('b');
    void ask('a');
    expect(held.calls.map((call) => call.query.query)).toEqual(['a', 'b']);
  });

  it('holds the answers of at most `capacity` searches, the least recently started going first', async () => {
    const held = new HeldSearch();
    const shared = new SharedKnowledgeSearches(held, { reuseMs: 60_000, capacity: 2 });
    const ask = (text: string) => shared.search({ tenant: 'acme', query: text, limit: 3 });
    const answered = [ask('a'), ask('b'), ask('c')];
    for (const call of held.calls) call.answer([chunk]);
    await Promise.all(answered);

    await Promise.all([ask('b'), ask('c')]);
    expect(held.calls).toHaveLength(3);
    void ask('a');
    expect(held.calls.map((call) => call.query.query)).toEqual(['a', 'b', 'c', 'a']);
  });
});
