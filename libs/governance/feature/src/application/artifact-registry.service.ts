import { type Principal } from '@keel/access';
import {
  type ArtifactKind,
  type ArtifactValidators,
  type ArtifactVersion,
  type ContentChange,
  GovernanceError,
  type Registration,
  diffContent,
  registerVersion,
} from '@keel/governance-domain';
import { type ArtifactSummary, type ArtifactVersions } from '../persistence/artifact-versions.repository';
import { type Transactions } from '../persistence/transactions';

/** The registry's use cases, each in the caller's tenant: register content as a version, list, get, diff. */
export class ArtifactRegistryService {
  constructor(
    private readonly versions: ArtifactVersions,
    private readonly transactions: Transactions,
    private readonly validators: ArtifactValidators,
    private readonly now: () => Date,
  ) {}

  /** @throws GovernanceError `invalid-artifact` listing every problem the kind's validator found. */
  register(by: Principal, kind: ArtifactKind, name: string, content: unknown): Promise<Registration> {
    return this.transactions.run(async (manager) => {
      const latest = await this.versions.latestForUpdate(manager, by.tenant, kind, name);
      const registration = registerVersion(
        { tenant: by.tenant, kind, name, content, author: by.subject, createdAt: this.now().toISOString() },
        latest,
        this.validators,
      );
      if (registration.outcome === 'created') await this.versions.insert(manager, registration.version);
      return registration;
    });
  }

  list(tenant: string): Promise<ArtifactSummary[]> {
    return this.transactions.run((manager) => this.versions.list(manager, tenant));
  }

  async versionsOf(tenant: string, kind: ArtifactKind, name: string): Promise<ArtifactVersion[]> {
    const versions = await this.transactions.run((manager) =>
      this.versions.versionsOf(manager, tenant, kind, name),
    );
    if (versions.length === 0) throw new GovernanceError('not-found', `no ${kind} '${name}' in the registry`);
    return versions;
  }

  async get(tenant: string, kind: ArtifactKind, name: string, version: number): Promise<ArtifactVersion> {
    const found = await this.transactions.run((manager) =>
      this.versions.get(manager, tenant, kind, name, version),
    );
    if (found === undefined)
      throw new GovernanceError('not-found', `no version ${version} of ${kind} '${name}'`);
    return found;
  }

  async diff(
    tenant: string,
    kind: ArtifactKind,
    name: string,
    from: number,
    to: number,
  ): Promise<ContentChange[]> {
    const [before, after] = await Promise.all([
      this.get(tenant, kind, name, from),
      this.get(tenant, kind, name, to),
    ]);
    return diffContent(before.content, after.content);
  }
}
