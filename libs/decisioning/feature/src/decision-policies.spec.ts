import { type ChatModel } from '@keel/decisioning-agent';
import { DecisioningDomainError, currentArtifacts } from '@keel/decisioning-domain';
import { type AppliedRelease, ReleasesError } from '@keel/releases';
import type { EntityManager } from 'typeorm';
import { DecisionPolicies } from './decision-policies';

const hash = '0'.repeat(64);

function release(id: string, stage: 'shadow' | 'production', model = 'offline-planner@1'): AppliedRelease {
  const { agentPolicy, prompt, guardrailPolicy } = currentArtifacts;
  const member = (name: string, version: number) => ({ name, version, contentHash: hash });
  return {
    id,
    tenant: 'acme',
    stage,
    sequence: 1,
    appliedAt: new Date('2026-12-01T12:00:00Z'),
    contents: {
      agentPolicy: member(agentPolicy.name, agentPolicy.version),
      prompt: member(prompt.name, prompt.version),
      model,
      guardrailPolicy: member(guardrailPolicy.name, guardrailPolicy.version),
      workflowTemplates: [],
    },
    artifacts: [
      { kind: 'agent-policy', ...member(agentPolicy.name, agentPolicy.version), content: agentPolicy },
      { kind: 'prompt', ...member(prompt.name, prompt.version), content: prompt },
      { kind: 'guardrail-policy', ...member(guardrailPolicy.name, 1), content: guardrailPolicy },
    ],
  };
}

const chatModel = (model: string): ChatModel => ({ model, complete: () => Promise.resolve({}) });

describe('DecisionPolicies', () => {
  const manager = {} as EntityManager;

  it('decides with the bundled files until a release is in force, then with the release, shadow beside it', () => {
    const models = new Map<string, ChatModel>();
    const retired: ChatModel[] = [];
    const policies = new DecisionPolicies({
      bundled: { artifacts: currentArtifacts },
      model: (id) => models.get(id) ?? models.set(id, chatModel(id)).get(id),
      retired: (gone) => retired.push(...gone),
    });
    expect(policies.current()).toEqual({ production: { artifacts: currentArtifacts } });

    policies.follow({ production: release('r1', 'production'), shadow: release('r2', 'shadow', 'gpt-x') });
    const { production, shadow } = policies.current();
    expect(production.artifacts).toMatchObject({ release: 'r1', agentPolicy: { mode: 'production' } });
    expect(production.model).toBeUndefined();
    // A shadow release decides in shadow mode whatever its policy file says.
    expect(shadow?.artifacts).toMatchObject({ release: 'r2', agentPolicy: { mode: 'shadow' } });
    expect(shadow?.model?.model).toBe('gpt-x');

    // The shadow release leaves: its model is retired; back to the bundled files without any release.
    policies.follow({ production: release('r1', 'production') });
    expect(retired.map((model) => model.model)).toEqual(['gpt-x']);
    policies.follow({});
    expect(policies.current()).toEqual({ production: { artifacts: currentArtifacts } });
  });

  it('refuses, before it is in force, a release it cannot run (the releases consumer dead-letters it)', async () => {
    const policies = new DecisionPolicies({
      bundled: { artifacts: currentArtifacts },
      model: () => undefined,
    });
    await expect(policies.applier.apply(manager, release('r1', 'production'))).resolves.toBeUndefined();

    const modelWithoutEndpoint = policies.applier.apply(manager, release('r2', 'production', 'gpt-x'));
    await expect(modelWithoutEndpoint).rejects.toBeInstanceOf(ReleasesError);
    await expect(modelWithoutEndpoint).rejects.toMatchObject({
      code: 'release-refused',
      consumerHandling: 'dead-letter',
    });

    const broken = release('r3', 'production');
    const invalid = {
      ...broken,
      artifacts: broken.artifacts.map((artifact) =>
        artifact.kind === 'agent-policy' ? { ...artifact, content: { name: 'agent-policy' } } : artifact,
      ),
    };
    const refused = policies.applier.apply(manager, invalid);
    await expect(refused).rejects.toBeInstanceOf(DecisioningDomainError);
    await expect(refused).rejects.toMatchObject({
      code: 'invalid-artifact',
      consumerHandling: 'dead-letter',
    });
  });
});
