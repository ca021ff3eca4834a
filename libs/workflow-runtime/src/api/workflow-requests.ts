import { z } from 'zod';
import { ContractViolationError } from '@keel/contracts';
import { jsonValueSchema } from '../json-value.schema';

const identifier = z.string().min(1).max(200);

export const startRequestSchema = z.object({
  instanceId: identifier.optional(),
  workflow: identifier,
  version: z.number().int().min(1).optional(),
  input: z.record(z.string(), jsonValueSchema).default({}),
  caseId: identifier,
  /** Optional: the token's tenant; another one is refused (403 `wrong-tenant`). */
  tenant: identifier.optional(),
  correlationId: identifier.optional(),
});

// `by` (who asked, for the instance's history) is the token's subject, never the body's: an older client's
// `by` is accepted and ignored.
export const cancelRequestSchema = z.object({
  reason: z.string().min(1).max(1000),
  by: identifier.optional(),
});
export const stepRequestSchema = z.object({ stepId: identifier, by: identifier.optional() });
export const instancePathSchema = z.object({ id: identifier });
export const listQuerySchema = z.object({
  status: z
    .enum(['running', 'waiting', 'completed', 'failed', 'compensating', 'compensated', 'cancelled'])
    .optional(),
  workflow: identifier.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** Parses a request body or query; a bad one becomes a 400 naming every violation. */
export function parseRequest<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  what: string,
): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ContractViolationError.fromZod(what, parsed.error);
  return parsed.data;
}
