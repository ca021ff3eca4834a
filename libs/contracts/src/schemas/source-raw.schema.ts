import { z } from 'zod';
import { jsonObjectSchema } from './common.schema';

/** `keel.source.raw.v1`: an event as a source system sent it; ingestion validates it against its source schema. */
export const sourceRawEventSchema = z.object({
  system: z.string().min(1).max(100),
  eventType: z.string().min(1).max(100),
  schemaVersion: z.number().int().min(1),
  payload: jsonObjectSchema,
});
export type SourceRawEvent = z.infer<typeof sourceRawEventSchema>;
