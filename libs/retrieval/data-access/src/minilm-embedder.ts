import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { type DenseEmbedder, type EmbeddingPurpose, RetrievalError } from '@keel/retrieval-domain';
import { InferenceSession, Tensor } from 'onnxruntime-node';

export interface MiniLmOptions {
  /** Tokens per text including [CLS] and [SEP]; sentence-transformers uses 256 for this model. */
  readonly maxTokens?: number;
  /**
   * onnxruntime intra-op threads. One by default: a query is ~10 tokens, too little to split, and a second
   * thread only spins (measured: twice the CPU per query, no lower latency on two cores).
   */
  readonly threads?: number;
}

/**
 * all-MiniLM-L6-v2 (quantized ONNX) run in-process by onnxruntime-node, as sentence-transformers runs it:
 * WordPiece tokens from the model's tokenizer.json, mean pooling over the tokens, L2 normalisation. Needs no
 * key and no network once scripts/models/minilm.sh has resolved the model.
 *
 * Texts run one at a time: the model quantizes activations dynamically over the whole input tensor, so in a
 * batch a text's vector would depend on its neighbours (cosine ≈ 0.99 to itself alone). One text per run keeps
 * a chunk's vector a function of its text, which re-indexing and replays rely on.
 */
export class MiniLmEmbedder implements DenseEmbedder {
  readonly model = 'sentence-transformers/all-MiniLM-L6-v2 (quantized ONNX, LangChain4j)';
  readonly dimensions = 384;

  private constructor(
    private readonly session: InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly maxTokens: number,
  ) {}

  /** Loads `model.onnx` and `tokenizer.json` from the folder `resolveMiniLmModel` returns. */
  static async load(modelFolder: string, options: MiniLmOptions = {}): Promise<MiniLmEmbedder> {
    const tokenizerJson = JSON.parse(await readFile(join(modelFolder, 'tokenizer.json'), 'utf8')) as object;
    const session = await InferenceSession.create(join(modelFolder, 'model.onnx'), {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const embedder = new MiniLmEmbedder(session, new Tokenizer(tokenizerJson, {}), options.maxTokens ?? 256);
    // The first run allocates the session's arenas and kernels, by far the slowest: done here, not in a query.
    await embedder.embed(['warm-up'], 'query');
    return embedder;
  }

  async embed(texts: readonly string[], _purpose: EmbeddingPurpose): Promise<number[][]> {
    const vectors: number[][] = [];
    for (const text of texts) vectors.push(await this.embedOne(text));
    return vectors;
  }

  private async embedOne(text: string): Promise<number[]> {
    const ids = this.idsOf(text);
    const shape = [1, ids.length];
    let output;
    try {
      output = await this.session.run({
        input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), shape),
        attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
        token_type_ids: new Tensor('int64', new BigInt64Array(ids.length), shape),
      });
    } catch (error) {
      throw new RetrievalError('embedder-unavailable', 'the MiniLM model failed to run', { cause: error });
    }
    return meanPooledUnit(output.last_hidden_state.data as Float32Array, ids.length, this.dimensions);
  }

  // Truncation keeps [CLS] first and [SEP] last, as the tokenizers library's truncation does.
  private idsOf(text: string): number[] {
    const ids = this.tokenizer.encode(text).ids;
    return ids.length <= this.maxTokens ? ids : [...ids.slice(0, this.maxTokens - 1), ids[ids.length - 1]];
  }
}

// Sums in a Float64Array: the same doubles added in the same order as in a plain array, without its boxing.
function meanPooledUnit(hidden: Float32Array, tokens: number, dimensions: number): number[] {
  const pooled = new Float64Array(dimensions);
  for (let t = 0; t < tokens; t++) {
    const row = t * dimensions;
    for (let d = 0; d < dimensions; d++) pooled[d] += hidden[row + d];
  }
  const norm = Math.hypot(...pooled) || 1;
  return Array.from(pooled, (value) => value / norm);
}
