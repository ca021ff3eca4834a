import { z } from 'zod';
import { identifierSchema, sha256HexSchema } from './common.schema';

/** How the retrieval service ranks: both retrievers fused by RRF (the default), or one of them alone. */
export const retrievalModeSchema = z.enum(['hybrid', 'dense', 'sparse']);
export type RetrievalMode = z.infer<typeof retrievalModeSchema>;

/**
 * `POST /v1/context-queries` on the retrieval service (ADR 0007): the agent asks for the knowledge chunks
 * that best answer `query`, within one tenant. Every filter narrows; an omitted filter does not.
 */
export const contextQueryRequestSchema = z.object({
  tenant: z.string().min(1).max(100),
  query: z.string().min(1).max(4000),
  limit: z.number().int().min(1).max(100).default(8),
  mode: retrievalModeSchema.default('hybrid'),
  filter: z
    .object({
      documentIds: z.array(identifierSchema).min(1).optional(),
      /** Pins a document's version; without it only each document's current version is searched. */
      versions: z
        .array(z.object({ documentId: identifierSchema, version: z.number().int().min(1) }))
        .min(1)
        .optional(),
      /** A chunk matches when it carries every listed tag. */
      tags: z.array(z.string().min(1)).min(1).optional(),
    })
    .strict()
    .default({}),
});
export type ContextQueryRequest = z.infer<typeof contextQueryRequestSchema>;
export type ContextQueryRequestInput = z.input<typeof contextQueryRequestSchema>;

/** One retrieved chunk with the provenance a decision record cites (document, version, chunk id and hash). */
export const contextChunkSchema = z.object({
  documentId: identifierSchema,
  version: z.number().int().min(1),
  chunkId: identifierSchema,
  /** sha-256 hex of the chunk's text, so a record proves which words the agent saw. */
  chunkHash: sha256HexSchema,
  /** Larger is better; comparable only within one response (RRF scores for hybrid, similarities otherwise). */
  score: z.number(),
  text: z.string(),
  title: z.string(),
  /** Headings above the chunk, outermost first. */
  headingPath: z.array(z.string()),
  tags: z.array(z.string()),
});
export type ContextChunk = z.infer<typeof contextChunkSchema>;

/** The answer to a context query: chunks best first, at most `limit`. */
export const contextQueryResponseSchema = z.object({
  tenant: z.string().min(1).max(100),
  mode: retrievalModeSchema,
  chunks: z.array(contextChunkSchema),
});
export type ContextQueryResponse = z.infer<typeof contextQueryResponseSchema>;

/** Where the agent sends a context query, relative to the retrieval service's base URL. */
export const contextQueryPath = '/v1/context-queries';
