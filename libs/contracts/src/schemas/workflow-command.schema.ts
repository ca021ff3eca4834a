import { z } from 'zod';
import { identifierSchema, jsonObjectSchema } from './common.schema';

/** `keel.workflow.commands.v1`: start, signal or cancel an instance; operator retry and rerun. */
export const workflowCommandSchema = z.discriminatedUnion('command', [
  z.object({
    command: z.literal('start'),
    instanceId: identifierSchema,
    template: identifierSchema,
    templateVersion: z.number().int().min(1).optional(),
    input: jsonObjectSchema,
  }),
  z.object({
    command: z.literal('signal'),
    instanceId: identifierSchema,
    signal: z.string().min(1).max(100),
    stepId: identifierSchema.optional(),
    payload: jsonObjectSchema,
  }),
  z.object({
    command: z.literal('cancel'),
    instanceId: identifierSchema,
    reason: z.string().min(1).max(1000),
  }),
  z.object({ command: z.literal('retry-step'), instanceId: identifierSchema, stepId: identifierSchema }),
  z.object({ command: z.literal('rerun-from'), instanceId: identifierSchema, stepId: identifierSchema }),
]);
export type WorkflowCommand = z.infer<typeof workflowCommandSchema>;
