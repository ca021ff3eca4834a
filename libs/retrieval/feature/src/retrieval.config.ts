import { accessConfigSchema, refineAccessConfig } from '@keel/access';
import { serviceConfigSchema } from '@keel/config';
import { z } from 'zod';

/** The retrieval service's settings: the common ones, access, plus its vector store and embedder. */
export const retrievalConfigSchema = serviceConfigSchema(3002)
  .extend({
    ...accessConfigSchema.shape,
    /** Requests one client may make to the query API per window (per replica); more are answered 429. */
    RETRIEVAL_RATE_LIMIT: z.coerce.number().int().min(1).default(6_000),
    RETRIEVAL_RATE_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
    /** `embedded` searches in the process (kept in Postgres, rebuilt at boot); `qdrant` needs QDRANT_URL. */
    RETRIEVAL_VECTOR_STORE: z.enum(['embedded', 'qdrant']).default('embedded'),
    QDRANT_URL: z.url().optional(),
    QDRANT_API_KEY: z.string().min(1).optional(),
    RETRIEVAL_QDRANT_COLLECTION: z.string().min(1).default('keel-knowledge'),
    /** `minilm` runs all-MiniLM-L6-v2 in the process; `openai` calls an OpenAI-compatible endpoint. */
    RETRIEVAL_EMBEDDER: z.enum(['minilm', 'openai']).default('minilm'),
    /** Folder with the MiniLM `model.onnx` and `tokenizer.json`; unset: resolved by scripts/models/minilm.sh. */
    RETRIEVAL_MINILM_DIR: z.string().min(1).optional(),
    RETRIEVAL_EMBEDDINGS_BASE_URL: z.url().optional(),
    RETRIEVAL_EMBEDDINGS_API_KEY: z.string().min(1).optional(),
    RETRIEVAL_EMBEDDINGS_MODEL: z.string().min(1).optional(),
    RETRIEVAL_EMBEDDINGS_DIMENSIONS: z.coerce.number().int().min(1).optional(),
    /** Query vectors kept by text (the same questions recur; a MiniLM embedding costs ~6 ms); 0 keeps none. */
    RETRIEVAL_QUERY_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(1_000),
    /** Candidates each retriever hands to RRF in hybrid search. */
    RETRIEVAL_PREFETCH_LIMIT: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .superRefine((config, context) => {
    refineAccessConfig(config, context);
    if (config.RETRIEVAL_VECTOR_STORE === 'qdrant' && !config.QDRANT_URL) {
      context.addIssue({
        code: 'custom',
        path: ['QDRANT_URL'],
        message: 'required when RETRIEVAL_VECTOR_STORE=qdrant',
      });
    }
    if (config.RETRIEVAL_EMBEDDER === 'openai') {
      for (const key of [
        'RETRIEVAL_EMBEDDINGS_BASE_URL',
        'RETRIEVAL_EMBEDDINGS_API_KEY',
        'RETRIEVAL_EMBEDDINGS_MODEL',
        'RETRIEVAL_EMBEDDINGS_DIMENSIONS',
      ] as const) {
        if (config[key] === undefined) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message: 'required when RETRIEVAL_EMBEDDER=openai',
          });
        }
      }
    }
  });

export type RetrievalConfig = z.infer<typeof retrievalConfigSchema>;
