import { type CloudEvent, type ReleaseEvent } from '@keel/contracts';
import type { EntityManager } from 'typeorm';
import { type AppliedReleases } from './applied-releases.repository';
import { contentHashOf } from './content-hash';
import { type ArtifactSource } from './governance-artifacts';
import {
  type AppliedRelease,
  type ReleaseApplier,
  type ReleaseArtifact,
  releaseMembers,
} from './release';
import { type ReleaseStepPlan, planReleaseStep } from './release-step';
import { ReleasesError } from './releases.error';
import { type ReleaseStepOutcome } from './releases.metrics';

export interface ReleaseApplicationOptions {
  /** The governance tenant (release scope) this service runs. */
  readonly tenant: string;
  readonly repository: AppliedReleases;
  readonly artifacts: ArtifactSource;
  /** The service's appliers, read when a release applies (registered by its modules at init). */
  readonly appliers: () => readonly ReleaseApplier[];
  readonly now: () => Date;
  readonly counted?: (outcome: ReleaseStepOutcome) => void;
}

/**
 * Applies release events in the consumer's transaction: each step once and only forward (by the step's
 * sequence), each member's content fetched and checked against the hash governance approved, then handed
 * to the service's appliers and recorded as in force — all in one commit with the event's processed id.
 */
export class ReleaseApplication {
  constructor(private readonly options: ReleaseApplicationOptions) {}

  /**
   * @throws ReleasesError `incomplete-event`, `hash-mismatch`, `artifact-missing` (dead-lettered),
   *   `governance-unavailable`, `governance-refused` (held); an applier's refusal.
   */
  async handle(manager: EntityManager, event: CloudEvent<ReleaseEvent>): Promise<ReleaseStepPlan> {
    const { repository, tenant } = this.options;
    const early = planReleaseStep(event.data, event.tenant, tenant, Number.NEGATIVE_INFINITY);
    if (early.type === 'skip' && early.reason === 'other-tenant') return this.outcome(early);
    await repository.lock(manager, tenant);
    const plan = planReleaseStep(
      event.data,
      event.tenant,
      tenant,
      await repository.appliedThrough(manager, tenant),
    );
    if (plan.type === 'skip') return this.outcome(plan);
    const release: AppliedRelease = {
      ...plan.release,
      stage: plan.stage,
      artifacts: await this.verifiedArtifacts(plan.release),
      appliedAt: this.options.now(),
    };
    for (const applier of this.options.appliers()) await applier.apply(manager, release);
    await repository.record(manager, release);
    return this.outcome(plan);
  }

  private async verifiedArtifacts(
    release: Extract<ReleaseStepPlan, { type: 'apply' }>['release'],
  ): Promise<ReleaseArtifact[]> {
    const artifacts: ReleaseArtifact[] = [];
    for (const member of releaseMembers(release.contents)) {
      const content = await this.options.artifacts.content(member.kind, member.name, member.version);
      const hash = contentHashOf(content);
      if (hash !== member.contentHash) {
        throw new ReleasesError(
          'hash-mismatch',
          `release '${release.id}': ${member.kind} '${member.name}' v${member.version} hashes to ${hash}, the release approved ${member.contentHash}`,
        );
      }
      artifacts.push({ ...member, content });
    }
    return artifacts;
  }

  private outcome(plan: ReleaseStepPlan): ReleaseStepPlan {
    this.options.counted?.(plan.type === 'apply' ? 'applied' : plan.reason);
    return plan;
  }
}
