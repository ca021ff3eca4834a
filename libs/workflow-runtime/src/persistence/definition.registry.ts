import { createHash } from 'node:crypto';
import { type WorkflowDefinition, canonicalJson, loadDefinition } from '@keel/workflow-engine';
import type { EntityManager } from 'typeorm';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import type { DefinitionRepository } from './workflow-repositories';

/** sha-256 of the canonical JSON of a definition: equal content, equal hash, whatever the key order. */
export function definitionHash(definition: WorkflowDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

/**
 * Every workflow version this service can run. Versions are immutable: registering a different content
 * under an existing name and version is refused. The `definitions` table is the shared truth of all
 * replicas: a version this process has no file for is read from it when first needed and kept, so a replica
 * still on an older image runs instances pinned to a version another replica published, and every replica
 * starts an unversioned request on the same newest version.
 */
export class DefinitionRegistry {
  constructor(private readonly stored: DefinitionRepository) {}

  private readonly versions = new Map<
    string,
    Map<number, { definition: WorkflowDefinition; hash: string }>
  >();

  register(definition: WorkflowDefinition): void {
    const hash = definitionHash(definition);
    const known = this.versions.get(definition.name)?.get(definition.version);
    if (known && known.hash !== hash) {
      throw new WorkflowRuntimeError(
        'definition-conflict',
        `workflow ${definition.name}@${definition.version} already exists with different content; publish a new version`,
      );
    }
    const byVersion =
      this.versions.get(definition.name) ??
      new Map<number, { definition: WorkflowDefinition; hash: string }>();
    byVersion.set(definition.version, { definition, hash });
    this.versions.set(definition.name, byVersion);
  }

  /**
   * The definition of `name@version`, or of the newest version any replica stored when `version` is
   * omitted. A name nobody registered is `unknown-workflow`; a version of a known name that is not stored
   * (yet) is `unknown-version`, which callers retry: a replica publishing it may still be starting.
   */
  async resolve(manager: EntityManager, name: string, version?: number): Promise<WorkflowDefinition> {
    const wanted = version ?? (await this.newestVersion(manager, name));
    const known = this.versions.get(name)?.get(wanted);
    if (known) return known.definition;
    const row = await this.stored.find(manager, name, wanted);
    if (row) {
      const definition = loadDefinition(row.definition);
      this.register(definition);
      return definition;
    }
    if (this.versions.has(name) || (await this.stored.isStored(manager, name))) {
      throw new WorkflowRuntimeError('unknown-version', `no workflow ${name}@${wanted} stored yet`);
    }
    throw new WorkflowRuntimeError('unknown-workflow', `no workflow named '${name}'`);
  }

  list(): Array<{ name: string; version: number; hash: string }> {
    return [...this.versions].flatMap(([name, byVersion]) =>
      [...byVersion].map(([version, { hash }]) => ({ name, version, hash })),
    );
  }

  all(): WorkflowDefinition[] {
    return [...this.versions.values()].flatMap((byVersion) =>
      [...byVersion.values()].map((entry) => entry.definition),
    );
  }

  /**
   * Reconciles with the `definitions` table: stored versions are registered (refusing a changed file for
   * an existing version), then every known version is stored.
   */
  async synchronize(manager: EntityManager): Promise<void> {
    for (const row of await this.stored.all(manager)) this.register(loadDefinition(row.definition));
    for (const [name, byVersion] of this.versions) {
      for (const [version, { definition, hash }] of byVersion)
        await this.stored.store(manager, name, version, hash, canonicalJson(definition));
    }
  }

  private async newestVersion(manager: EntityManager, name: string): Promise<number> {
    const stored = await this.stored.newestVersion(manager, name);
    const local = [...(this.versions.get(name)?.keys() ?? [])];
    const newest = Math.max(stored ?? 0, ...local);
    if (newest === 0) throw new WorkflowRuntimeError('unknown-workflow', `no workflow named '${name}'`);
    return newest;
  }
}
