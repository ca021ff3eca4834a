/** Which side of the search a text is on: some models embed queries and passages differently. */
export type EmbeddingPurpose = 'document' | 'query';

/** The dense embedder port: the local MiniLM model or any OpenAI-compatible embeddings endpoint. */
export interface DenseEmbedder {
  /** Model name recorded with the vectors, so a change of model is visible. */
  readonly model: string;
  readonly dimensions: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[], purpose: EmbeddingPurpose): Promise<number[][]>;
}
