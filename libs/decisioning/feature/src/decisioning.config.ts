import { accessConfigSchema } from '@keel/access';
import { serviceConfigSchema } from '@keel/config';
import { z } from 'zod';

const optionalSetting = z.string().min(1).optional();

/** The decisioning service's settings: the common ones plus the model and retrieval it may use. */
export const decisioningConfigSchema = serviceConfigSchema(3003)
  .extend({
    /** Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama's `/v1`). */
    OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
    OPENAI_API_KEY: optionalSetting,
    /** Without a model the offline planner decides every case. */
    OPENAI_MODEL: optionalSetting,
    /** The retrieval service's base URL; without it the agent decides without knowledge. */
    RETRIEVAL_URL: z.url().optional(),
    RETRIEVAL_TIMEOUT_MS: z.coerce.number().int().min(1).default(500),
    /**
     * How long a knowledge answer serves identical searches (same tenant, text and limit) after its call
     * started: knowledge reaches decisions at most this much later than it reaches the index. 0: only searches
     * in flight share a call.
     */
    RETRIEVAL_ANSWER_REUSE_MS: z.coerce.number().int().min(0).default(1000),
    /**
     * Retrieval checks bearer tokens: decisioning signs a short-lived viewer token for each query's tenant
     * with `ACCESS_SHARED_KEY` (and the same issuer, audience and claim names as the other services).
     */
    ...accessConfigSchema.shape,
  })
  .superRefine((config, context) => {
    if (config.RETRIEVAL_URL && !config.ACCESS_SHARED_KEY) {
      context.addIssue({
        code: 'custom',
        path: ['ACCESS_SHARED_KEY'],
        message: 'required when RETRIEVAL_URL is set (queries carry a token for their tenant)',
      });
    }
    if (config.OPENAI_MODEL && !config.OPENAI_API_KEY) {
      context.addIssue({
        code: 'custom',
        path: ['OPENAI_API_KEY'],
        message: 'required when OPENAI_MODEL is set',
      });
    }
  });

export type DecisioningConfig = z.infer<typeof decisioningConfigSchema>;
