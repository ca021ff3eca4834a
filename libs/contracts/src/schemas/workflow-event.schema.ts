import { z } from 'zod';
import { identifierSchema, jsonObjectSchema } from './common.schema';

/** `keel.workflow.events.v1`: every instance and step transition, in order per instance. */
export const workflowEventSchema = z.object({
  instanceId: identifierSchema,
  template: identifierSchema,
  templateVersion: z.number().int().min(1),
  sequence: z.number().int().min(0),
  transition: z.string().min(1).max(100),
  stepId: identifierSchema.optional(),
  status: z.string().min(1).max(50),
  detail: jsonObjectSchema,
});
export type WorkflowEvent = z.infer<typeof workflowEventSchema>;
