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
}

/** The versions in force, validated when this module loads so a bad artifact fails at boot. */
export const currentArtifacts: DecisionArtifacts = Object.freeze({
  agentPolicy: loadAgentPolicy(agentPolicyV1),
  prompt: loadPrompt(decidePromptV1),
  guardrailPolicy: loadGuardrailPolicy(guardrailsV1),
});

/** How a record names an artifact. */
export function artifactRef(artifact: { readonly name: string; readonly version: number }): {
  name: string;
  version: number;
} {
  return { name: artifact.name, version: artifact.version };
}
