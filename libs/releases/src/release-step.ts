import { type ReleaseContents, type ReleaseEvent } from '@keel/contracts';
import { type ReleaseStage } from './release';
import { ReleasesError } from './releases.error';

/** What one `keel.governance.releases.v1` record means to a service applying one tenant's releases. */
export type ReleaseStepPlan =
  | {
      readonly type: 'apply';
      readonly stage: ReleaseStage;
      readonly release: {
        readonly id: string;
        readonly tenant: string;
        readonly contents: ReleaseContents;
        readonly sequence: number;
      };
    }
  | { readonly type: 'skip'; readonly reason: ReleaseStepSkip };

export type ReleaseStepSkip =
  /** Another tenant's release: this service runs one release scope. */
  | 'other-tenant'
  /** A step at or before the last one applied: a redelivery, or another member's event of an applied step. */
  | 'already-applied'
  /**
   * The rolled-back release's own events: what is in force afterwards comes in the same step's `promoted`
   * events (the release re-activated), so these change nothing.
   */
  | 'rolled-back-notice';

/**
 * Decides what to do with a release event, given the tenant this service runs and the sequence of the last
 * step it applied. Every event of a step carries the whole release and the step's sequence, so the first
 * one seen applies the step and the others are skipped; steps apply only forward.
 *
 * @throws ReleasesError `incomplete-event` for an event of the tenant without `release` or its `sequence`.
 */
export function planReleaseStep(
  event: ReleaseEvent,
  tenant: string,
  scope: string,
  appliedThrough: number,
): ReleaseStepPlan {
  if ((event.release?.tenant ?? tenant) !== scope) return { type: 'skip', reason: 'other-tenant' };
  const release = event.release;
  if (release?.sequence === undefined) {
    throw new ReleasesError(
      'incomplete-event',
      `release event for ${event.artifactKind} '${event.artifactName}' v${event.version} carries no release with a sequence`,
    );
  }
  if (release.sequence <= appliedThrough) return { type: 'skip', reason: 'already-applied' };
  if (event.action === 'rolled_back') return { type: 'skip', reason: 'rolled-back-notice' };
  return {
    type: 'apply',
    stage: event.stage,
    release: {
      id: release.id,
      tenant: release.tenant,
      contents: release.contents,
      sequence: release.sequence,
    },
  };
}
