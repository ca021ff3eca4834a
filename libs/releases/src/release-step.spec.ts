import { type ReleaseEvent } from '@keel/contracts';
import { planReleaseStep } from './release-step';

const hash = 'a'.repeat(64);
const contents = {
  agentPolicy: { name: 'agent', version: 1, contentHash: hash },
  prompt: { name: 'decide', version: 1, contentHash: hash },
  model: 'offline-planner@1',
  guardrailPolicy: { name: 'guardrails', version: 1, contentHash: hash },
  workflowTemplates: [{ name: 'order-routing', version: 2, contentHash: hash }],
};
const event = (overrides: Partial<ReleaseEvent> = {}, sequence: number | null = 5): ReleaseEvent => ({
  artifactKind: 'agent-policy',
  artifactName: 'agent',
  version: 1,
  contentHash: hash,
  action: 'promoted',
  stage: 'production',
  actor: 'bob',
  release: { id: 'r1', tenant: 'acme', contents, ...(sequence === null ? {} : { sequence }) },
  ...overrides,
});

describe('planReleaseStep', () => {
  it('applies a promotion past the last step applied, at its stage', () => {
    expect(planReleaseStep(event(), 'acme', 'acme', 4)).toEqual({
      type: 'apply',
      stage: 'production',
      release: { id: 'r1', tenant: 'acme', contents, sequence: 5 },
    });
    expect(planReleaseStep(event({ stage: 'shadow' }), 'acme', 'acme', 0)).toMatchObject({
      type: 'apply',
      stage: 'shadow',
    });
  });

  it("skips a step applied already: a redelivery, or another member's event of the same step", () => {
    expect(planReleaseStep(event(), 'acme', 'acme', 5)).toEqual({ type: 'skip', reason: 'already-applied' });
    expect(planReleaseStep(event(), 'acme', 'acme', 9)).toEqual({ type: 'skip', reason: 'already-applied' });
  });

  it("leaves a rollback's notice of the rolled-back release to the same step's re-activation", () => {
    expect(planReleaseStep(event({ action: 'rolled_back' }), 'acme', 'acme', 4)).toEqual({
      type: 'skip',
      reason: 'rolled-back-notice',
    });
  });

  it("skips another tenant's releases, even ones this service could not apply", () => {
    const globex = event({ release: { id: 'g1', tenant: 'globex', contents, sequence: 1 } });
    expect(planReleaseStep(globex, 'globex', 'acme', 0)).toMatchObject({ reason: 'other-tenant' });
    expect(planReleaseStep(event({ release: undefined }), 'globex', 'acme', 0)).toMatchObject({
      reason: 'other-tenant',
    });
  });

  it('refuses an event of its tenant without a release or a sequence', () => {
    const refusal = (withoutRelease: ReleaseEvent) => {
      try {
        planReleaseStep(withoutRelease, 'acme', 'acme', 0);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    expect(refusal(event({}, null))).toMatchObject({ code: 'incomplete-event', consumerHandling: 'dead-letter' });
    expect(refusal(event({ release: undefined }))).toMatchObject({ code: 'incomplete-event' });
  });
});
