import { z } from 'zod';
import { identifierSchema, jsonObjectSchema } from './common.schema';

/** `keel.cases.events.v1`: a validated source event normalized into one shape for every use case. */
export const caseEventSchema = z.object({
  caseId: identifierSchema,
  caseType: z.enum(['order', 'exception', 'support']),
  eventType: z.string().min(1).max(100),
  occurredAt: z.iso.datetime({ offset: true }),
  source: z.object({
    system: z.string().min(1),
    eventId: identifierSchema,
    schemaVersion: z.number().int().min(1),
  }),
  attributes: jsonObjectSchema,
});
export type CaseEvent = z.infer<typeof caseEventSchema>;
