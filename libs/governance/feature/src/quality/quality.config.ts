import { z } from 'zod';

/**
 * The replay gate's and the drift monitor's defaults, for a release that sets no bar of its own
 * (`contents.quality`), and how often the monitor looks.
 */
export const governanceQualityConfigSchema = z.object({
  /** Minimum agreement of a replay when the release names none. */
  GOVERNANCE_REPLAY_MIN_AGREEMENT: z.coerce.number().min(0).max(1).default(0.95),
  /** Fewer recorded decisions than this prove nothing: the gate blocks (an admin may override). */
  GOVERNANCE_REPLAY_MIN_RECORDED: z.coerce.number().int().min(0).default(20),
  /** How many of the newest recorded production decisions a replay reruns. */
  GOVERNANCE_REPLAY_SAMPLE: z.coerce.number().int().min(1).max(200_000).default(5_000),
  /** Decisions per drift window (the newest ones on each side of the promotion). */
  GOVERNANCE_DRIFT_WINDOW: z.coerce.number().int().min(1).max(100_000).default(500),
  GOVERNANCE_DRIFT_MIN_DECISIONS: z.coerce.number().int().min(1).default(50),
  GOVERNANCE_DRIFT_MIN_OUTCOMES: z.coerce.number().int().min(1).default(20),
  GOVERNANCE_DRIFT_MAX_MIX_SHIFT: z.coerce.number().min(0).max(1).default(0.25),
  GOVERNANCE_DRIFT_MAX_CONFIDENCE_DROP: z.coerce.number().min(0).max(1).default(0.1),
  GOVERNANCE_DRIFT_MAX_OVERRIDE_RISE: z.coerce.number().min(0).max(1).default(0.15),
  /** How often drift and shadow agreement are evaluated for every tenant; 0 turns the monitor off. */
  GOVERNANCE_QUALITY_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
});

export type GovernanceQualityConfig = z.infer<typeof governanceQualityConfigSchema>;
