import { loadConfig } from '@keel/config';
import { type ReleasesConfig, refineReleasesConfig, releasesConfigSchema } from '@keel/releases';
import { type WorkflowConfig, workflowConfigSchema } from '@keel/workflow-runtime';

/** The releases settings as the workflow service reads them (a release tenant needs governance's URL and key). */
export const workflowReleasesConfigSchema = releasesConfigSchema.superRefine(refineReleasesConfig);

/** Everything the workflow service reads from its environment: the runtime's settings and the releases'. */
export type WorkflowServiceConfig = WorkflowConfig & ReleasesConfig;

/** Reads both schemas from one environment, once, at boot. */
export function loadWorkflowServiceConfig(
  env: Record<string, string | undefined> = process.env,
): WorkflowServiceConfig {
  return { ...loadConfig(workflowConfigSchema, env), ...loadConfig(workflowReleasesConfigSchema, env) };
}
