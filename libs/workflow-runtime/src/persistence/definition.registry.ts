import { createHash } from 'node:crypto';
import { type WorkflowDefinition, canonicalJson, loadDefinition } from '@keel/workflow-engine';
import type { EntityManager } from 'typeorm';
import { WorkflowRuntimeError } from '../workflow-runtime.error';

interface DefinitionRow {
  name: string;
  version: number;
  content_hash: string;
  definition: unknown;
}

/** sha-256 of the canonical JSON of a definition: equal content, equal hash, whatever the key order. */
export function definitionHash(definition: WorkflowDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

/**
 * Every workflow version this service can run. Versions are immutable: registering a different content
 * under an existing name and version is refused. Stored versions are loaded back at boot, so an instance
 * pinned to a version whose file is gone still finishes on it.
 */
export class DefinitionRegistry {
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

  get(name: string, version: number): WorkflowDefinition {
    const found = this.versions.get(name)?.get(version);
    if (!found) throw new WorkflowRuntimeError('unknown-workflow', `no workflow ${name}@${version}`);
    return found.definition;
  }

  latest(name: string): WorkflowDefinition {
    const byVersion = this.versions.get(name);
    if (!byVersion || byVersion.size === 0)
      throw new WorkflowRuntimeError('unknown-workflow', `no workflow named '${name}'`);
    return byVersion.get(Math.max(...byVersion.keys()))!.definition;
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
    const rows = await manager.query<DefinitionRow[]>(
      `SELECT name, version, content_hash, definition FROM "workflow"."definitions"`,
    );
    for (const row of rows) this.register(loadDefinition(row.definition));
    for (const { name, version, hash } of this.list()) {
      await manager.query(
        `INSERT INTO "workflow"."definitions" (name, version, content_hash, definition)
         VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (name, version) DO NOTHING`,
        [name, version, hash, canonicalJson(this.get(name, version))],
      );
    }
  }
}
