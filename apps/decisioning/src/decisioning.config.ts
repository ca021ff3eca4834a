import { loadConfig } from '@keel/config';
import {
  type DecisioningConfig,
  type DecisionWorkerConfig,
  decisionWorkerConfigSchema,
  decisioningConfigSchema,
} from '@keel/decisioning-feature';
import { type ReleasesConfig, refineReleasesConfig, releasesConfigSchema } from '@keel/releases';

/** The releases settings as decisioning reads them (a release tenant needs governance's URL and key). */
export const decisioningReleasesConfigSchema = releasesConfigSchema.superRefine(refineReleasesConfig);

/** Everything the decisioning service reads from its environment: agent, worker and releases settings. */
export type DecisioningServiceConfig = DecisioningConfig & DecisionWorkerConfig & ReleasesConfig;

/** Reads the three schemas from one environment, once, at boot. */
export function loadDecisioningServiceConfig(
  env: Record<string, string | undefined> = process.env,
): DecisioningServiceConfig {
  return {
    ...loadConfig(decisioningConfigSchema, env),
    ...loadConfig(decisionWorkerConfigSchema, env),
    ...loadConfig(decisioningReleasesConfigSchema, env),
  };
}
