import { z } from 'zod';
import { artifactRefSchema, identifierSchema, jsonObjectSchema, sha256HexSchema } from './common.schema';

export const decisionToolSchema = z.enum(['start_workflow', 'route', 'escalate', 'request_info', 'no_op']);
export type DecisionTool = z.infer<typeof decisionToolSchema>;

/** `keel.decisions.v1`: what the agent decided, why, from which inputs and under which versions. */
export const decisionRecordSchema = z.object({
  decisionId: identifierSchema,
  caseId: identifierSchema,
  action: z.object({ tool: decisionToolSchema, arguments: jsonObjectSchema }),
  rationale: z.string().max(4000),
  confidence: z.number().min(0).max(1),
  risk: z.enum(['low', 'medium', 'high']),
  requiresApproval: z.boolean(),
  mode: z.enum(['production', 'shadow']),
  inputs: z.object({
    eventIds: z.array(identifierSchema).min(1),
    chunks: z.array(
      z.object({
        documentId: identifierSchema,
        version: z.number().int().min(1),
        chunkId: identifierSchema,
        hash: sha256HexSchema,
        score: z.number(),
      }),
    ),
  }),
  versions: z.object({
    agentPolicy: artifactRefSchema,
    prompt: artifactRefSchema,
    guardrailPolicy: artifactRefSchema,
    model: z.string().min(1),
  }),
  cost: z.object({
    promptTokens: z.number().int().min(0),
    completionTokens: z.number().int().min(0),
    latencyMs: z.number().min(0),
  }),
  fallback: z.boolean(),
});
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;
