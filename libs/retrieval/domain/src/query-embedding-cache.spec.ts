import type { DenseEmbedder, EmbeddingPurpose } from './embedder.port';
import { QueryEmbeddingCache } from './query-embedding-cache';

/** An embedder that counts what it embeds and answers a vector derived from the text. */
class CountingEmbedder implements DenseEmbedder {
  readonly model = 'counting';
  readonly dimensions = 2;
  readonly calls: Array<{ texts: readonly string[]; purpose: EmbeddingPurpose }> = [];
  failNext = false;

  embed(texts: readonly string[], purpose: EmbeddingPurpose): Promise<number[][]> {
    this.calls.push({ texts, purpose });
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('model down'));
    }
    return Promise.resolve(texts.map((text) => [text.length, this.calls.length]));
  }

  embedded(purpose: EmbeddingPurpose): string[] {
    return this.calls.filter((call) => call.purpose === purpose).flatMap((call) => call.texts);
  }
}

describe('the query embedding cache', () => {
  it('embeds a query text once and answers the same vector after', async () => {
    const embedder = new CountingEmbedder();
    const cache = new QueryEmbeddingCache(embedder, 10);
    const first = await cache.embed(['order placed'], 'query');
    const second = await cache.embed(['order placed'], 'query');
    expect(second).toEqual(first);
    expect(embedder.embedded('query')).toEqual(['order placed']);
    expect(cache.model).toBe('counting');
    expect(cache.dimensions).toBe(2);
  });

  it('shares one embedding between concurrent asks for the same text', async () => {
    const embedder = new CountingEmbedder();
    const cache = new QueryEmbeddingCache(embedder, 10);
    const [a, b] = await Promise.all([cache.embed(['q'], 'query'), cache.embed(['q'], 'query')]);
    expect(a).toEqual(b);
    expect(embedder.embedded('query')).toEqual(['q']);
  });

  it('hands out copies: changing an answer does not change what later asks get', async () => {
    const cache = new QueryEmbeddingCache(new CountingEmbedder(), 10);
    const [vector] = await cache.embed(['q'], 'query');
    vector?.fill(0);
    expect(await cache.embed(['q'], 'query')).toEqual([[1, 1]]);
  });

  it('keeps at most its capacity, dropping the least recently asked text', async () => {
    const embedder = new CountingEmbedder();
    const cache = new QueryEmbeddingCache(embedder, 2);
    await cache.embed(['a'], 'query');
    await cache.embed(['b'], 'query');
    await cache.embed(['a'], 'query'); // a is now the most recent
    await cache.embed(['c'], 'query'); // b goes
    await cache.embed(['a'], 'query');
    await cache.embed(['b'], 'query');
    expect(embedder.embedded('query')).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not keep a failed embedding: the next ask tries again', async () => {
    const embedder = new CountingEmbedder();
    const cache = new QueryEmbeddingCache(embedder, 10);
    embedder.failNext = true;
    await expect(cache.embed(['q'], 'query')).rejects.toThrow('model down');
    await expect(cache.embed(['q'], 'query')).resolves.toHaveLength(1);
    expect(embedder.embedded('query')).toEqual(['q', 'q']);
  });

  it('passes document texts through, and everything when its capacity is 0', async () => {
    const embedder = new CountingEmbedder();
    await new QueryEmbeddingCache(embedder, 10).embed(['chunk', 'chunk'], 'document');
    await new QueryEmbeddingCache(embedder, 10).embed(['chunk'], 'document');
    const off = new QueryEmbeddingCache(embedder, 0);
    await off.embed(['q'], 'query');
    await off.embed(['q'], 'query');
    expect(embedder.embedded('document')).toEqual(['chunk', 'chunk', 'chunk']);
    expect(embedder.embedded('query')).toEqual(['q', 'q']);
  });
});
