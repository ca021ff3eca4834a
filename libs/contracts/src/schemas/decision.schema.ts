import { z } from 'zod';
import { artifactRefSchema, identifierSchema, jsonObjectSchema, sha256HexSchema } from './common.schema';

/** `answer` picks one of a workflow decision step's options; the other tools act on the case itself. */
export const decisionToolSchema = z.enum([
  'start_workflow',
  'route',
  'escalate',
  'request_info',
  'answer',
  'no_op',
]);
export type DecisionTool = z.infer<typeof decisionToolSchema>;

/** One guardrail rule as evaluated for a decision: the values it read and what it concluded. */
export const ruleEvaluationSchema = z.object({
  rule: identifierSchema,
  inputs: jsonObjectSchema,
  result: z.boolean(),
});
export type RuleEvaluation = z.infer<typeof ruleEvaluationSchema>;

/**
 * One model call as it happened: the request the agent sent and the response (or the failure) it got, as
 * stored copies with their sha-256, so the decision can be replayed without the model.
 */
export const modelExchangeSchema = z.object({
  requestSha256: sha256HexSchema,
  request: z.string(),
  responseSha256: sha256HexSchema,
  response: z.string(),
});
export type ModelExchange = z.infer<typeof modelExchangeSchema>;

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
    /** The governance release the artifacts came from; absent when the service ran its bundled files. */
    release: identifierSchema.optional(),
  }),
  cost: z.object({
    promptTokens: z.number().int().min(0),
    completionTokens: z.number().int().min(0),
    latencyMs: z.number().min(0),
    /** Priced from the agent policy's per-token rates. */
    usd: z.number().min(0).optional(),
  }),
  fallback: z.boolean(),
  /** Why the offline planner decided instead of the model (no model configured, breaker open, bad output…). */
  fallbackReason: z.string().max(1000).optional(),
  /** Who proposed the action. */
  planner: z.enum(['offline', 'model']).optional(),
  /** Set when the record answers a workflow decision step (`agent.decisionRequested`). */
  answers: z
    .object({ instanceId: identifierSchema, stepId: identifierSchema, run: z.number().int().min(1) })
    .optional(),
  /** The guardrail policy's evaluation trace, rule by rule. */
  rulesEvaluated: z.array(ruleEvaluationSchema).optional(),
  /** Everything the agent could not derive itself, recorded so the decision replays byte-identically offline. */
  replay: z
    .object({
      trigger: jsonObjectSchema,
      observations: z.array(jsonObjectSchema),
      exchange: z.array(modelExchangeSchema),
      clockReadings: z.array(z.number().min(0)),
    })
    .optional(),
  /**
   * Set on a shadow decision (`mode: 'shadow'`): the shadow release's policy decided beside production on the
   * same trigger, and is never acted on. Names production's decision and whether the two agree (same tool,
   * arguments and approval requirement).
   */
  shadow: z.object({ productionDecisionId: identifierSchema, agreesWithProduction: z.boolean() }).optional(),
});
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;
