import { type AgentPolicy, type Prompt, loadAgentPolicy, loadPrompt } from './agent-policy';
import { type GuardrailPolicy, loadGuardrailPolicy } from './guardrail-policy';
import agentPolicyV1 from './policies/agent-policy.v1.json';
import guardrailsV1 from './policies/guardrails.v1.json';
import decidePromptV1 from './prompts/decide.prompt.v1.json';

/** The artifacts a decision runs under. Files until the governance registry serves releases. */
export interface DecisionArtifacts {
  readonly agentPolicy: AgentPolicy;
  readonly prompt: Prompt;
  readonly guardrailPolicy: GuardrailPolicy;
  /** The governance release they came from (named in each record); absent for the bundled files. */
  readonly release?: string;
}

/** The versions in force, validated when this module loads so a bad artifact fails at boot. */
export const currentArtifacts: DecisionArtifacts = Object.freeze({
  agentPolicy: loadAgentPolicy(agentPolicyV1),
  prompt: loadPrompt(decidePromptV1),
  guardrailPolicy: loadGuardrailPolicy(guardrailsV1),
});

/**
 * The artifacts as a stage runs them: a shadow release's agent policy decides in shadow mode whatever its file
 * says (it is usually the candidate for production), so its records are never acted on.
 */
export function artifactsInStage(artifacts: DecisionArtifacts, mode: AgentPolicy['mode']): DecisionArtifacts {
  if (artifacts.agentPolicy.mode === mode) return artifacts;
  return { ...artifacts, agentPolicy: { ...artifacts.agentPolicy, mode } };
}

/** How a record names an artifact. */
export function artifactRef(artifact: { readonly name: string; readonly version: number }): {
  name: string;
  version: number;
} {
  return { name: artifact.name, version: artifact.version };
}
