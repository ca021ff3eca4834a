import { caseEventSchema } from '@keel/contracts';
import { z } from 'zod';

/** A JSONata expression evaluated over the source payload. */
const expression = z.string().min(1);

const caseEventMappingSchema = z.object({
  target: z.literal('case-event'),
  caseType: caseEventSchema.shape.caseType,
  caseId: expression,
  /** The source system's own id of the event: with tenant and system, the idempotency key. */
  eventId: expression,
  occurredAt: expression,
  /** Defaults to the event type the source sent (`$eventType`; `$system` and `$tenant` are bound too). */
  eventType: expression.default('$eventType'),
  attributes: expression.default('$'),
});

const knowledgeDocumentMappingSchema = z.object({
  target: z.literal('knowledge-document'),
  documentId: expression,
  version: expression,
  title: expression,
  content: expression,
  mediaType: expression.default("'text/markdown'"),
  tags: expression.default('[]'),
});

/**
 * A versioned source schema (kind `event-schema`, as governance will register it): which events a source
 * system sends, the JSON Schema their payload must satisfy, and how a payload maps onto a case event or a
 * knowledge document. Kept as data — JSON files today, registry artifacts later.
 */
export const sourceDefinitionSchema = z.object({
  kind: z.literal('event-schema'),
  system: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,99}$/, 'expected a lower-case system name such as order-system'),
  version: z.number().int().min(1),
  description: z.string().min(1),
  eventTypes: z.array(z.string().min(1).max(100)).min(1),
  /** JSON Schema (draft-07) of `payload`. */
  payloadSchema: z.record(z.string(), z.unknown()),
  mapping: z.discriminatedUnion('target', [caseEventMappingSchema, knowledgeDocumentMappingSchema]),
});

export type SourceDefinition = z.infer<typeof sourceDefinitionSchema>;
export type SourceDefinitionInput = z.input<typeof sourceDefinitionSchema>;
export type CaseEventMapping = z.infer<typeof caseEventMappingSchema>;
export type KnowledgeDocumentMapping = z.infer<typeof knowledgeDocumentMappingSchema>;
