import { type DenseEmbedder, type EmbeddingPurpose, RetrievalError } from '@keel/retrieval-domain';
import OpenAI from 'openai';
import { z } from 'zod';

export interface OpenAiEmbedderOptions {
  /** Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LiteLLM …), e.g. `http://127.0.0.1:11434/v1`. */
  readonly baseURL: string;
  readonly apiKey: string;
  readonly model: string;
  readonly dimensions: number;
  /** Inputs per request. */
  readonly batchSize?: number;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
}

const embeddingsResponseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
});

/**
 * Dense vectors from an OpenAI-compatible embeddings endpoint, through the `openai` SDK. Asks for float
 * vectors explicitly: the SDK otherwise requests base64, which many compatible servers answer with floats
 * that the SDK then decodes into empty vectors.
 */
export class OpenAiEmbedder implements DenseEmbedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly batchSize: number;

  constructor(options: OpenAiEmbedderOptions) {
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.batchSize = options.batchSize ?? 64;
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      timeout: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 2,
    });
  }

  async embed(texts: readonly string[], _purpose: EmbeddingPurpose): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      vectors.push(...(await this.embedBatch(texts.slice(start, start + this.batchSize))));
    }
    return vectors;
  }

  private async embedBatch(input: string[]): Promise<number[][]> {
    let response: unknown;
    try {
      response = await this.client.embeddings.create({ model: this.model, input, encoding_format: 'float' });
    } catch (error) {
      throw new RetrievalError(
        'embedder-unavailable',
        `embeddings endpoint failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const parsed = embeddingsResponseSchema.safeParse(response);
    if (!parsed.success)
      throw new RetrievalError('embedding-malformed', `embeddings response: ${parsed.error.message}`);
    const byIndex = new Map(parsed.data.data.map((entry) => [entry.index, entry.embedding]));
    return input.map((_, i) => {
      const vector = byIndex.get(i);
      if (vector?.length !== this.dimensions) {
        throw new RetrievalError(
          'embedding-malformed',
          `input ${i}: expected ${this.dimensions} floats, got ${vector?.length ?? 'none'}`,
        );
      }
      return vector;
    });
  }
}
