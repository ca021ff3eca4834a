import { createHash } from 'node:crypto';
import { type WorkflowDefinition, canonicalJson, loadDefinition } from '@keel/workflow-engine';
import type { EntityManager } from 'typeorm';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import type { DefinitionRepository } from './workflow-repositories';

/** sha-256 of the canonical JSON of a definition: equal content, equal hash, whatever the key order. */
export function definitionHash(definition: WorkflowDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

/** A release's templates as the registry follows them: its id and the version of each template it names. */
export interface ReleasedTemplates {
  readonly id: string;
  readonly versions: ReadonlyMap<string, number>;
}

/**
 * The workflow definitions a release holds, loaded by the engine (as governance validated them) and each
 * under the name the release gives it.
 *
 * @throws WorkflowRuntimeError `definition-conflict` for a template whose content names another workflow.
 */
export function releasedDefinitions(
  templates: ReadonlyArray<{ readonly name: string; readonly content: unknown }>,
): WorkflowDefinition[] {
  return templates.map((template) => {
    let definition: WorkflowDefinition;
    try {
      definition = loadDefinition(template.content);
    } catch (error) {
      // Governance validated it with the same loader: a template this engine refuses is never retried.
      throw new WorkflowRuntimeError(
        'invalid-request',
        `release template '${template.name}': ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (definition.name !== template.name) {
      throw new WorkflowRuntimeError(
        'definition-conflict',
        `release template '${template.name}' holds workflow '${definition.name}': a template's content must name it`,
      );
    }
    return definition;
  });
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

  /** The release in force and the version it names of each of its templates (none: newest stored wins). */
  private pinned: ReleasedTemplates | undefined;

  /**
   * Makes `release` the one unversioned starts follow: a template it names starts on the version it names,
   * and new instances record its id. `undefined`: no release is in force (a fresh install, or releases off).
   */
  follow(release: ReleasedTemplates | undefined): void {
    this.pinned = release;
  }

  /** The id of the release in force, which new instances are started under. */
  releaseInForce(): string | undefined {
    return this.pinned?.id;
  }

  /**
   * What a new instance starts on: `name@version`, or, unversioned, the version the release in force names
   * (else the newest stored), with the id of that release — one snapshot, so the instance names the release
   * whose version it got even if another release arrives meanwhile.
   */
  async resolveStart(
    manager: EntityManager,
    name: string,
    version?: number,
  ): Promise<{ definition: WorkflowDefinition; release: string | undefined }> {
    const pinned = this.pinned;
    const wanted = version ?? pinned?.versions.get(name);
    return { definition: await this.resolve(manager, name, wanted), release: pinned?.id };
  }

  /**
   * Registers a version a release brings and stores it in the shared table in the caller's transaction. A
   * version stored already with other content (a file or an earlier release) refuses it, so a release never
   * changes what an instance pinned to that version runs.
   *
   * @throws WorkflowRuntimeError `definition-conflict`.
   */
  async publish(manager: EntityManager, definition: WorkflowDefinition): Promise<void> {
    const hash = definitionHash(definition);
    const row = await this.stored.find(manager, definition.name, definition.version);
    if (row && definitionHash(loadDefinition(row.definition)) !== hash) {
      throw new WorkflowRuntimeError(
        'definition-conflict',
        `workflow ${definition.name}@${definition.version} is stored with different content; a release must bring a new version`,
      );
    }
    this.register(definition);
    await this.stored.store(manager, definition.name, definition.version, hash, canonicalJson(definition));
  }

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
   * The definition of `name@version`, or, when `version` is omitted, of the version the release in force
   * names, else of the newest version any replica stored. A name nobody registered is `unknown-workflow`; a version of a known name that is not stored
   * (yet) is `unknown-version`, which callers retry: a replica publishing it may still be starting.
   */
  async resolve(manager: EntityManager, name: string, version?: number): Promise<WorkflowDefinition> {
    const wanted = version ?? this.pinned?.versions.get(name) ?? (await this.newestVersion(manager, name));
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
