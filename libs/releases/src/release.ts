import { type ReleaseContents, type ReleaseEvent } from '@keel/contracts';
import type { EntityManager } from 'typeorm';

export type ArtifactKind = ReleaseEvent['artifactKind'];
export type ReleaseStage = ReleaseEvent['stage'];

/** One registry version a release holds, with its content as governance served it (hash verified). */
export interface ReleaseArtifact {
  readonly kind: ArtifactKind;
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  readonly content: unknown;
}

/** A release as a service applied it: what governance approved plus each member's verified content. */
export interface AppliedRelease {
  readonly id: string;
  /** The governance tenant (release scope) it belongs to. */
  readonly tenant: string;
  readonly stage: ReleaseStage;
  /** The tenant's lifecycle position of the step that put it in force (`release.sequence` of the events). */
  readonly sequence: number;
  readonly contents: ReleaseContents;
  readonly artifacts: readonly ReleaseArtifact[];
  readonly appliedAt: Date;
}

/** What a service runs now: the production release, and the shadow one beside it (decided, never acted on). */
export interface ReleasesInForce {
  readonly production?: AppliedRelease;
  readonly shadow?: AppliedRelease;
}

/** A version a release names, by kind: the members whose content a service fetches and verifies. */
export interface ReleaseMember {
  readonly kind: ArtifactKind;
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
}

export function releaseMembers(contents: ReleaseContents): ReleaseMember[] {
  return [
    { kind: 'agent-policy', ...contents.agentPolicy },
    { kind: 'prompt', ...contents.prompt },
    { kind: 'guardrail-policy', ...contents.guardrailPolicy },
    ...contents.workflowTemplates.map((template) => ({ kind: 'workflow-template' as const, ...template })),
  ];
}

/** The release's artifacts of one kind, in the release's order. */
export function artifactsOf(release: AppliedRelease, kind: ArtifactKind): ReleaseArtifact[] {
  return release.artifacts.filter((artifact) => artifact.kind === kind);
}

/** The one artifact of a kind a release holds once (agent policy, prompt, guardrail policy). */
export function artifactOf(release: AppliedRelease, kind: ArtifactKind): ReleaseArtifact | undefined {
  return release.artifacts.find((artifact) => artifact.kind === kind);
}

/**
 * What a service does with a release before it is recorded as in force: decisioning builds its agent from
 * the policies, workflow registers the templates. Runs in the consumer's transaction, so what it writes
 * commits with the release; throwing `ReleasesError('release-refused')` (or another `KeelError`) refuses
 * the release, which is dead-lettered while the one in force stays.
 */
export interface ReleaseApplier {
  apply(manager: EntityManager, release: AppliedRelease): Promise<void>;
}
