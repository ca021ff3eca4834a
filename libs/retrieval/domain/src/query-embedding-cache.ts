import type { DenseEmbedder, EmbeddingPurpose } from './embedder.port';

/**
 * Query vectors kept by model and text, in front of an embedder. Agents ask the same questions over and over
 * (the offline planner's query is the case and event type), embedding one costs ~6 ms of CPU on the local
 * model, and a vector is a function of the model and the text alone (MiniLmEmbedder runs one text at a time
 * for that reason). Bounded: the least recently asked text goes first. Concurrent asks for one text share one
 * embedding; a failed one is not kept. Document texts pass through: each chunk is embedded once per version.
 */
export class QueryEmbeddingCache implements DenseEmbedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly vectors = new Map<string, Promise<readonly number[]>>();

  constructor(
    private readonly embedder: DenseEmbedder,
    private readonly capacity: number,
  ) {
    this.model = embedder.model;
    this.dimensions = embedder.dimensions;
  }

  embed(texts: readonly string[], purpose: EmbeddingPurpose): Promise<number[][]> {
    if (purpose !== 'query' || this.capacity <= 0) return this.embedder.embed(texts, purpose);
    // Copies: a caller may change the vector it gets, the cached one must stay as embedded.
    return Promise.all(texts.map(async (text) => [...(await this.vectorOf(text))]));
  }

  private vectorOf(text: string): Promise<readonly number[]> {
    const key = `${this.embedder.model}\u0000${text}`;
    const cached = this.vectors.get(key);
    if (cached) {
      // Asked again: it becomes the most recent (a Map iterates in insertion order).
      this.vectors.delete(key);
      this.vectors.set(key, cached);
      return cached;
    }
    const vector = this.embedder.embed([text], 'query').then(([only]) => {
      if (!only) throw new Error('the embedder answered no vector');
      return only;
    });
    this.vectors.set(key, vector);
    vector.catch(() => {
      if (this.vectors.get(key) === vector) this.vectors.delete(key);
    });
    if (this.vectors.size > this.capacity) {
      const oldest = this.vectors.keys().next().value;
      if (oldest !== undefined) this.vectors.delete(oldest);
    }
    return vector;
  }
}
