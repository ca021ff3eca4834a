import { accessConfigProblem, accessConfigSchema } from '@keel/access';
import { serviceConfigSchema } from '@keel/config';
import { z } from 'zod';

/** The governance service's settings: the common ones, access, the audit chain's key, rate limits, tokens. */
export const governanceConfigSchema = serviceConfigSchema(3005)
  .extend({
    ...accessConfigSchema.shape,
    /** The audit chain's HMAC key (ADR 0010): kept out of Postgres so a table writer cannot forge rows. */
    GOVERNANCE_AUDIT_KEY: z.string().min(32, 'at least 32 characters'),
    GOVERNANCE_RATE_LIMIT: z.coerce.number().int().min(1).default(300),
    GOVERNANCE_RATE_WINDOW_MS: z.coerce.number().int().min(1).default(60_000),
    /** Lifetime of the tokens minted from API keys. */
    GOVERNANCE_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
    /**
     * How long a decision the guardrails held waits for an approver before it is escalated (once) to
     * `GOVERNANCE_HOLD_ESCALATE_TO`, as a workflow approval step escalates after its timeout.
     */
    GOVERNANCE_HOLD_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(1_000)
      .default(4 * 3_600_000),
    GOVERNANCE_HOLD_ESCALATE_TO: z.string().min(1).max(100).default('approval-manager'),
    /** How often governance looks for holds past their deadline. */
    GOVERNANCE_INBOX_POLL_MS: z.coerce.number().int().min(50).default(10_000),
  })
  .superRefine((config, context) => {
    const problem = accessConfigProblem(config);
    if (problem !== undefined)
      context.addIssue({ code: 'custom', message: problem, path: ['ACCESS_SHARED_KEY'] });
  });

export type GovernanceConfig = z.infer<typeof governanceConfigSchema>;
