import { type ChatModel } from '@keel/decisioning-agent';
import {
  type AgentPolicy,
  type DecisionArtifacts,
  artifactsInStage,
  loadAgentPolicy,
  loadGuardrailPolicy,
  loadPrompt,
  offlinePlannerVersion,
} from '@keel/decisioning-domain';
import {
  type AppliedRelease,
  type ReleaseApplier,
  type ReleasesInForce,
  ReleasesError,
  artifactOf,
} from '@keel/releases';

/** What decisions run under: the artifacts (release named, stage applied) and the model (none: offline planner). */
export interface PolicySet {
  readonly artifacts: DecisionArtifacts;
  readonly model?: ChatModel;
}

/** Production decides and is acted on; a shadow release, when there is one, decides beside it and is not. */
export interface PoliciesInForce {
  readonly production: PolicySet;
  readonly shadow?: PolicySet;
}

export interface DecisionPoliciesOptions {
  /** What a fresh install runs until a release is applied: the bundled files and the configured model. */
  readonly bundled: PolicySet;
  /**
   * The chat model a release names, run with its agent policy's limits and breaker; undefined when the
   * service has no model endpoint configured (a release naming a model is then refused).
   */
  readonly model: (modelId: string, policy: AgentPolicy) => ChatModel | undefined;
  /** Called with the models no longer in force, to stop their breakers. */
  readonly retired?: (models: readonly ChatModel[]) => void;
}

/**
 * The policies decisions run under, following governance's releases: the agent policy, prompt, model and
 * guardrail policy of the production release, and of the shadow release beside it. Every replica switches on
 * `CurrentRelease`'s change (within its refresh), without a restart; with no release in force the bundled
 * files decide. A decision takes the policies once, when it starts, so it never mixes two releases.
 */
export class DecisionPolicies {
  private inForce: PoliciesInForce;

  constructor(private readonly options: DecisionPoliciesOptions) {
    this.inForce = { production: options.bundled };
  }

  current(): PoliciesInForce {
    return this.inForce;
  }

  /** Checks, before a release is recorded as in force, that decisioning can run it; refusing dead-letters it. */
  readonly applier: ReleaseApplier = {
    // A refusal thrown in the executor rejects the promise, as the releases consumer expects.
    apply: (_manager, release) =>
      new Promise<void>((resolve) => {
        this.policySetOf(release);
        resolve();
      }),
  };

  /** Switches to the releases in force (called with each change). */
  follow(releases: ReleasesInForce): void {
    const previous = this.inForce;
    this.inForce = {
      production: releases.production ? this.policySetOf(releases.production) : this.options.bundled,
      ...(releases.shadow ? { shadow: this.policySetOf(releases.shadow) } : {}),
    };
    const kept = new Set([this.inForce.production.model, this.inForce.shadow?.model]);
    const retired = [previous.production.model, previous.shadow?.model].filter(
      (model): model is ChatModel => model !== undefined && !kept.has(model),
    );
    if (retired.length > 0) this.options.retired?.(retired);
  }

  /**
   * @throws DecisioningDomainError `invalid-artifact` for content decisioning's loaders refuse;
   *   ReleasesError `release-refused` for a release missing a policy, or naming a model the service cannot call.
   */
  policySetOf(release: AppliedRelease): PolicySet {
    const content = (kind: 'agent-policy' | 'prompt' | 'guardrail-policy') => {
      const artifact = artifactOf(release, kind);
      if (artifact === undefined) {
        throw new ReleasesError('release-refused', `release '${release.id}' holds no ${kind}`);
      }
      return artifact.content;
    };
    const agentPolicy = loadAgentPolicy(content('agent-policy'));
    const artifacts = artifactsInStage(
      {
        agentPolicy,
        prompt: loadPrompt(content('prompt')),
        guardrailPolicy: loadGuardrailPolicy(content('guardrail-policy')),
        release: release.id,
      },
      release.stage === 'shadow' ? 'shadow' : agentPolicy.mode,
    );
    const modelId = release.contents.model;
    if (modelId === offlinePlannerVersion) return { artifacts };
    const model = this.options.model(modelId, agentPolicy);
    if (model === undefined) {
      throw new ReleasesError(
        'release-refused',
        `release '${release.id}' names model '${modelId}', but no model endpoint is configured (OPENAI_API_KEY)`,
      );
    }
    return { artifacts, model };
  }
}
