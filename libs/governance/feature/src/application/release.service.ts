import { createHash } from 'node:crypto';
import { type Principal } from '@keel/access';
import { type ReleaseContents, type ReleaseEvent, type ReleaseQuality, buildEvent } from '@keel/contracts';
import {
  type ArtifactKind,
  GovernanceError,
  type Release,
  type ReleaseCommand,
  type ReleaseScope,
  productionRelease,
  transitionRelease,
} from '@keel/governance-domain';
import { type OutboxWriter, type Topics } from '@keel/messaging';
import type { EntityManager } from 'typeorm';
import { type ArtifactVersions } from '../persistence/artifact-versions.repository';
import { type Releases } from '../persistence/releases.repository';
import { type Transactions } from '../persistence/transactions';

/** A registry version as a proposal names it; the service adds its content hash from the registry. */
export interface VersionChoice {
  readonly name: string;
  readonly version: number;
}

export interface ReleaseProposal {
  readonly id: string;
  readonly agentPolicy: VersionChoice;
  readonly prompt: VersionChoice;
  readonly model: string;
  readonly guardrailPolicy: VersionChoice;
  readonly workflowTemplates: readonly VersionChoice[];
  /** The release's own replay-gate and drift bars, reviewed with it. */
  readonly quality?: ReleaseQuality;
}

/**
 * Consulted inside a promotion's transaction, with the tenant's releases locked, before the step is applied:
 * throws to refuse the promotion (the replay gate, `quality/replay-gate.service.ts`).
 */
export interface PromotionGate {
  check(
    manager: EntityManager,
    scope: ReleaseScope,
    releaseId: string,
    stage: 'shadow' | 'production',
  ): Promise<void>;
}

/** A lifecycle step after the proposal, as the API names it. */
export type ReleaseStepCommand = Exclude<ReleaseCommand, { type: 'propose' }>;

export interface ReleaseServiceOptions {
  readonly releases: Releases;
  readonly versions: ArtifactVersions;
  readonly transactions: Transactions;
  readonly outbox: OutboxWriter;
  readonly topics: Topics;
  /** CloudEvents `source` of the release events. */
  readonly source: string;
  readonly now: () => Date;
  readonly promotionGate?: PromotionGate;
}

/**
 * The release use cases: each loads the tenant's releases under a lock, applies one pure transition, saves
 * what changed and enqueues the transition's events on `keel.governance.releases.v1` in the same transaction.
 */
export class ReleaseService {
  constructor(private readonly options: ReleaseServiceOptions) {}

  /** @throws GovernanceError `unknown-version` when a chosen version is not in the tenant's registry. */
  propose(by: Principal, proposal: ReleaseProposal): Promise<Release> {
    return this.options.transactions.run(async (manager) => {
      const contents: ReleaseContents = {
        agentPolicy: await this.released(manager, by.tenant, 'agent-policy', proposal.agentPolicy),
        prompt: await this.released(manager, by.tenant, 'prompt', proposal.prompt),
        model: proposal.model,
        guardrailPolicy: await this.released(
          manager,
          by.tenant,
          'guardrail-policy',
          proposal.guardrailPolicy,
        ),
        workflowTemplates: await Promise.all(
          proposal.workflowTemplates.map((choice) =>
            this.released(manager, by.tenant, 'workflow-template', choice),
          ),
        ),
        ...(proposal.quality === undefined ? {} : { quality: proposal.quality }),
      };
      return this.applied(manager, by, { type: 'propose', id: proposal.id, contents });
    });
  }

  /** @throws GovernanceError `four-eyes`, `invalid-transition`, `not-found`, `nothing-to-roll-back`. */
  step(by: Principal, command: ReleaseStepCommand): Promise<Release> {
    return this.options.transactions.run((manager) => this.applied(manager, by, command));
  }

  /**
   * Rolls back `releaseId` only if it is still the release in production once the tenant's releases are locked,
   * so a rollback decided on what was seen earlier (the drift monitor's) never takes down a release promoted
   * since.
   *
   * @throws GovernanceError `invalid-transition` when another release is in production now, and as `step`.
   */
  rollBack(by: Principal, releaseId: string, reason: string): Promise<Release> {
    return this.options.transactions.run((manager) =>
      this.applied(manager, by, { type: 'rollback', reason }, releaseId),
    );
  }

  list(tenant: string): Promise<Release[]> {
    return this.options.transactions.run((manager) => this.options.releases.list(manager, tenant));
  }

  private async applied(
    manager: EntityManager,
    by: Principal,
    command: ReleaseCommand,
    expectedInProduction?: string,
  ): Promise<Release> {
    const scope = await this.options.releases.lockScope(manager, by.tenant);
    const inProduction = productionRelease(scope)?.id;
    if (expectedInProduction !== undefined && inProduction !== expectedInProduction) {
      throw new GovernanceError(
        'invalid-transition',
        `release '${expectedInProduction}' is no longer in production in tenant '${by.tenant}' (now: ${inProduction ?? 'none'})`,
      );
    }
    if (command.type === 'promote') {
      await this.options.promotionGate?.check(manager, scope, command.releaseId, command.stage);
    }
    const at = this.options.now().toISOString();
    const transition = transitionRelease(scope, command, { actor: by.subject, at });
    await this.options.releases.save(manager, transition.scope, transition.changed);
    const topic = this.options.topics.releases;
    const sequence = lifecyclePosition(transition.scope);
    await this.options.outbox.enqueue(
      manager,
      topic,
      transition.events.map((data) =>
        buildEvent(
          topic,
          this.envelope(by, data.release ? { ...data, release: { ...data.release, sequence } } : data, at),
        ),
      ),
    );
    const id =
      command.type === 'propose' ? command.id : command.type === 'rollback' ? undefined : command.releaseId;
    // A rollback changes two releases; the one it answers with is the one now in production.
    const answered = transition.changed.find((release) =>
      id === undefined ? release.state === 'production' : release.id === id,
    );
    if (answered === undefined) throw new Error(`transition ${command.type} changed no release`);
    return answered;
  }

  private envelope(by: Principal, data: ReleaseEvent, at: string) {
    const releaseId = data.release?.id ?? data.artifactName;
    // Stable per (release, step, artifact): a transition enqueued twice would be recognisable downstream.
    const key = digest(
      `${by.tenant}/${releaseId}/${data.action}/${data.stage}/${data.artifactKind}/${data.artifactName}/${at}`,
    );
    return {
      id: key,
      source: this.options.source,
      type: `keel.governance.release.${data.action}`,
      time: at,
      subject: releaseId,
      tenant: by.tenant,
      correlationid: releaseId,
      idempotencykey: key,
      data,
    };
  }

  private async released(manager: EntityManager, tenant: string, kind: ArtifactKind, choice: VersionChoice) {
    const found = await this.options.versions.get(manager, tenant, kind, choice.name, choice.version);
    if (found === undefined) {
      throw new GovernanceError(
        'unknown-version',
        `no version ${choice.version} of ${kind} '${choice.name}' in the registry`,
      );
    }
    return { name: found.name, version: found.version, contentHash: found.contentHash };
  }
}

/**
 * How many lifecycle steps the tenant's releases have taken in all: every step appends one to a release's
 * history and nothing is ever removed, so it grows with each step and orders the steps' events for the
 * services that apply them (without a counter column of its own).
 */
function lifecyclePosition(scope: ReleaseScope): number {
  return Object.values(scope.releases).reduce((steps, release) => steps + release.history.length, 0);
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
