import { z } from 'zod';
import { identifierSchema, sha256HexSchema } from './common.schema';

/** `keel.knowledge.documents.v1`: a document version to index; the content hash makes re-indexing idempotent. */
export const knowledgeDocumentSchema = z.object({
  documentId: identifierSchema,
  version: z.number().int().min(1),
  title: z.string().min(1).max(500),
  mediaType: z.enum(['text/plain', 'text/markdown']),
  content: z.string().min(1),
  contentHash: sha256HexSchema,
  tags: z.array(z.string().min(1)).default([]),
});
export type KnowledgeDocument = z.infer<typeof knowledgeDocumentSchema>;
