import { z } from 'zod';
import { DecisioningDomainError } from './decisioning-domain.error';

/** How the agent runs: its bounds, how it talks to the model, and whether its decisions are acted on. */
export const agentPolicySchema = z.strictObject({
  name: z.string().min(1),
  version: z.number().int().min(1),
  description: z.string().min(1),
  /** Shadow decisions are recorded and compared, never acted on. */
  mode: z.enum(['production', 'shadow']),
  limits: z.strictObject({
    /** Tool calls per decision, action included. */
    maxSteps: z.number().int().min(1).max(50),
    maxWallMs: z.number().int().min(1),
    /** Prompt plus completion tokens over all model calls of one decision. */
    maxTokens: z.number().int().min(1),
    /** One model call, retries included. */
    modelTimeoutMs: z.number().int().min(1),
    maxRetries: z.number().int().min(0).max(10),
  }),
  knowledge: z.strictObject({ limit: z.number().int().min(1).max(100) }),
  caseHistory: z.strictObject({ limit: z.number().int().min(1).max(1000) }),
  pricing: z.strictObject({
    promptUsdPerMillionTokens: z.number().min(0),
    completionUsdPerMillionTokens: z.number().min(0),
  }),
  breaker: z.strictObject({
    errorThresholdPercentage: z.number().min(1).max(100),
    volumeThreshold: z.number().int().min(1),
    resetTimeoutMs: z.number().int().min(1),
  }),
});
export type AgentPolicy = z.infer<typeof agentPolicySchema>;

/** The system prompt the model is given, versioned like the policies. */
export const promptSchema = z.strictObject({
  name: z.string().min(1),
  version: z.number().int().min(1),
  system: z.string().min(1),
});
export type Prompt = z.infer<typeof promptSchema>;

/** @throws DecisioningDomainError `invalid-artifact`. */
export function loadAgentPolicy(artifact: unknown): AgentPolicy {
  return loadArtifact(agentPolicySchema, artifact, 'agent policy');
}

/** @throws DecisioningDomainError `invalid-artifact`. */
export function loadPrompt(artifact: unknown): Prompt {
  return loadArtifact(promptSchema, artifact, 'prompt');
}

function loadArtifact<T>(schema: z.ZodType<T>, artifact: unknown, what: string): T {
  const parsed = schema.safeParse(artifact);
  if (!parsed.success)
    throw new DecisioningDomainError('invalid-artifact', `${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
