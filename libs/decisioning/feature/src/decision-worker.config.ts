import { z } from 'zod';

/** The decision worker's settings, part of the decisioning service's config. */
export const decisionWorkerConfigShape = {
  /** Triggers decided (or being published) at once; model calls run concurrently across cases. */
  DECISIONING_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(256),
  /** How often the decision queue is read without a notification; a follower replica tries to lead as often. */
  DECISIONING_QUEUE_POLL_MS: z.coerce.number().int().min(10).default(500),
  /** Attempts at deciding one trigger before it is marked failed (its case then moves on). */
  DECISIONING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
};

export const decisionWorkerConfigSchema = z.object(decisionWorkerConfigShape);
export type DecisionWorkerConfig = z.infer<typeof decisionWorkerConfigSchema>;
