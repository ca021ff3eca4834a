import { type ReleaseContents, type ReleaseEvent } from '@keel/contracts';
import { type ArtifactKind } from './artifact-registry';
import { GovernanceError } from './governance.error';

/**
 * Where a release is in its life. `draft → in-review → approved → shadow → production`; a review may end in
 * `rejected`; a production release replaced by a newer one is `retired` (and comes back if that one is rolled
 * back); a rolled-back release is `rolled-back` for good.
 */
export type ReleaseState =
  'draft' | 'in-review' | 'approved' | 'rejected' | 'shadow' | 'production' | 'retired' | 'rolled-back';

/** One step in a release's history: who moved it where, when and (for rejections and rollbacks) why. */
export interface ReleaseStep {
  readonly state: ReleaseState;
  readonly actor: string;
  readonly at: string;
  readonly reason?: string;
}

export interface Release {
  readonly id: string;
  /** The scope a release is in force in: one production release per tenant. */
  readonly tenant: string;
  readonly author: string;
  readonly contents: ReleaseContents;
  readonly state: ReleaseState;
  readonly approvedBy?: string;
  readonly history: readonly ReleaseStep[];
}

/**
 * One tenant's releases and the order they reached production. `productionLine` holds the releases that went to
 * production and were not rolled back, oldest first: its last is in production, the one before it is what a
 * rollback re-activates.
 */
export interface ReleaseScope {
  readonly tenant: string;
  readonly releases: Readonly<Record<string, Release>>;
  readonly productionLine: readonly string[];
}

export type ReleaseCommand =
  | { readonly type: 'propose'; readonly id: string; readonly contents: ReleaseContents }
  | { readonly type: 'submit'; readonly releaseId: string }
  | { readonly type: 'approve'; readonly releaseId: string }
  | { readonly type: 'reject'; readonly releaseId: string; readonly reason: string }
  | { readonly type: 'promote'; readonly releaseId: string; readonly stage: 'shadow' | 'production' }
  | { readonly type: 'rollback'; readonly reason: string };

/** Who issues a command and when (the caller's clock). */
export interface ReleaseActor {
  readonly actor: string;
  readonly at: string;
}

export interface ReleaseTransition {
  readonly scope: ReleaseScope;
  /** The releases whose state changed, in the order they changed: what the caller persists. */
  readonly changed: readonly Release[];
  /** What to publish on `keel.governance.releases.v1`: one event per artifact version that moved. */
  readonly events: readonly ReleaseEvent[];
}

export function emptyReleaseScope(tenant: string): ReleaseScope {
  return { tenant, releases: {}, productionLine: [] };
}

/**
 * Applies one lifecycle command to a tenant's releases. Pure: the same scope and command always give the same
 * transition; nothing is changed in place.
 *
 * @throws GovernanceError `four-eyes` when the author reviews their own release, `invalid-transition` when the
 *   release's state does not allow the step, `not-found` for an unknown release, `nothing-to-roll-back`.
 */
export function transitionRelease(
  scope: ReleaseScope,
  command: ReleaseCommand,
  by: ReleaseActor,
): ReleaseTransition {
  switch (command.type) {
    case 'propose': {
      if (scope.releases[command.id] !== undefined) {
        throw new GovernanceError('invalid-transition', `release '${command.id}' already exists`);
      }
      const release: Release = {
        id: command.id,
        tenant: scope.tenant,
        author: by.actor,
        contents: command.contents,
        state: 'draft',
        history: [{ state: 'draft', actor: by.actor, at: by.at }],
      };
      return { scope: withReleases(scope, [release]), changed: [release], events: [] };
    }
    case 'submit': {
      const release = moved(releaseIn(scope, command.releaseId), ['draft'], 'in-review', by);
      return { scope: withReleases(scope, [release]), changed: [release], events: [] };
    }
    case 'approve':
    case 'reject': {
      const current = releaseIn(scope, command.releaseId);
      if (current.author === by.actor) {
        throw new GovernanceError(
          'four-eyes',
          `release '${current.id}' was proposed by '${by.actor}', who cannot ${command.type} it: another approver must`,
        );
      }
      const release =
        command.type === 'approve'
          ? { ...moved(current, ['in-review'], 'approved', by), approvedBy: by.actor }
          : moved(current, ['in-review'], 'rejected', by, command.reason);
      return { scope: withReleases(scope, [release]), changed: [release], events: [] };
    }
    case 'promote':
      return command.stage === 'shadow'
        ? promoteToShadow(scope, releaseIn(scope, command.releaseId), by)
        : promoteToProduction(scope, releaseIn(scope, command.releaseId), by);
    case 'rollback':
      return rollback(scope, command.reason, by);
  }
}

/** The release in production in a scope, if any. */
export function productionRelease(scope: ReleaseScope): Release | undefined {
  const id = scope.productionLine.at(-1);
  return id === undefined ? undefined : scope.releases[id];
}

function promoteToShadow(scope: ReleaseScope, current: Release, by: ReleaseActor): ReleaseTransition {
  const release = moved(current, ['approved'], 'shadow', by);
  // One shadow at a time: the one it replaces goes back to approved, promotable again.
  const displaced = Object.values(scope.releases)
    .filter((other) => other.state === 'shadow' && other.id !== release.id)
    .map((other) => moved(other, ['shadow'], 'approved', by, `displaced from shadow by '${release.id}'`));
  return {
    scope: withReleases(scope, [...displaced, release]),
    changed: [...displaced, release],
    events: artifactEvents(release, 'promoted', 'shadow', by),
  };
}

function promoteToProduction(scope: ReleaseScope, current: Release, by: ReleaseActor): ReleaseTransition {
  const release = moved(current, ['shadow'], 'production', by);
  const previous = productionRelease(scope);
  const retired = previous === undefined ? [] : [moved(previous, ['production'], 'retired', by)];
  return {
    scope: {
      ...withReleases(scope, [...retired, release]),
      productionLine: [...scope.productionLine, release.id],
    },
    changed: [...retired, release],
    events: artifactEvents(release, 'promoted', 'production', by),
  };
}

function rollback(scope: ReleaseScope, reason: string, by: ReleaseActor): ReleaseTransition {
  const current = productionRelease(scope);
  const previousId = scope.productionLine.at(-2);
  const previous = previousId === undefined ? undefined : scope.releases[previousId];
  if (current === undefined || previous === undefined) {
    throw new GovernanceError(
      'nothing-to-roll-back',
      current === undefined
        ? `tenant '${scope.tenant}' has no release in production`
        : `release '${current.id}' is the first in production in tenant '${scope.tenant}': there is none before it`,
    );
  }
  const rolledBack = moved(current, ['production'], 'rolled-back', by, reason);
  const reactivated = moved(previous, ['retired'], 'production', by, `rollback of '${current.id}'`);
  return {
    scope: {
      ...withReleases(scope, [rolledBack, reactivated]),
      productionLine: scope.productionLine.slice(0, -1),
    },
    changed: [rolledBack, reactivated],
    events: [
      ...artifactEvents(rolledBack, 'rolled_back', 'production', by),
      ...artifactEvents(reactivated, 'promoted', 'production', by),
    ],
  };
}

function releaseIn(scope: ReleaseScope, id: string): Release {
  const release = scope.releases[id];
  if (release === undefined)
    throw new GovernanceError('not-found', `no release '${id}' in tenant '${scope.tenant}'`);
  return release;
}

function moved(
  release: Release,
  from: readonly ReleaseState[],
  to: ReleaseState,
  by: ReleaseActor,
  reason?: string,
): Release {
  if (!from.includes(release.state)) {
    throw new GovernanceError(
      'invalid-transition',
      `release '${release.id}' is ${release.state}; only a release that is ${from.join(' or ')} can become ${to}`,
    );
  }
  const step: ReleaseStep = reason === undefined ? { state: to, ...by } : { state: to, ...by, reason };
  return { ...release, state: to, history: [...release.history, step] };
}

function withReleases(scope: ReleaseScope, releases: readonly Release[]): ReleaseScope {
  const next = { ...scope.releases };
  for (const release of releases) next[release.id] = release;
  return { ...scope, releases: next };
}

function artifactEvents(
  release: Release,
  action: ReleaseEvent['action'],
  stage: ReleaseEvent['stage'],
  by: ReleaseActor,
): ReleaseEvent[] {
  const { contents } = release;
  const members: [ArtifactKind, ReleaseContents['agentPolicy']][] = [
    ['agent-policy', contents.agentPolicy],
    ['prompt', contents.prompt],
    ['guardrail-policy', contents.guardrailPolicy],
    ...contents.workflowTemplates.map((template): [ArtifactKind, typeof template] => [
      'workflow-template',
      template,
    ]),
  ];
  return members.map(([artifactKind, member]) => ({
    artifactKind,
    artifactName: member.name,
    version: member.version,
    contentHash: member.contentHash,
    action,
    stage,
    actor: by.actor,
    release: { id: release.id, tenant: release.tenant, contents },
  }));
}
