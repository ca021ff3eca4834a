import { SourceCatalog, SourceDefinitionError } from '@keel/ingestion-domain';
import { contentHashOf } from '@keel/releases';
import type { LoggerService } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { Transactions } from '../persistence/transactions';
import type { SourceSchemas, StoredSourceSchema } from '../persistence/source-schemas.repository';
import type { EventSchemaRegistry, RegistryEventSchema } from './governance-event-schemas';
import type { LiveSourceCatalog } from './live-source-catalog';

/** What became of one registry version: stored, already held, or refused (and why). */
export type RegistryOutcome = 'adopted' | 'known' | 'conflict' | 'hash-mismatch' | 'misnamed' | 'invalid';

export interface SourceSchemaFollowerOptions {
  readonly transactions: Pick<Transactions, 'run'>;
  readonly schemas: SourceSchemas;
  readonly catalog: LiveSourceCatalog;
  /** Governance's registry; undefined = the stored (seeded) versions only. */
  readonly registry?: EventSchemaRegistry;
  /** The bundled definitions (and `INGESTION_SOURCES_DIR`), stored only on a fresh install. */
  readonly seed: readonly unknown[];
  readonly maxPayloadDepth: number;
  readonly outcomes: Counter<'outcome'>;
  readonly logger: LoggerService;
}

/**
 * Keeps the catalog in force equal to the versions stored in the service's schema, and adds to them what
 * governance's registry holds. Each turn: new registry versions of kind `event-schema` are fetched, checked
 * against their hash and compiled by the same catalog, and stored (a (system, version) never changes its
 * content once stored); then, if the stored set grew (by this replica or another), the catalog is rebuilt.
 * Governance unreachable changes nothing: the stored versions stay in force, and the next turn tries again.
 */
export class SourceSchemaFollower {
  /** Newest registry version looked at per artifact (refused ones included), so none is fetched twice. */
  private cursor = new Map<string, number>();
  private storedCount = -1;

  constructor(private readonly options: SourceSchemaFollowerOptions) {}

  /** At boot: seeds a fresh install, then loads what is stored. Before the API or the consumer answers. */
  async start(): Promise<void> {
    const { transactions, schemas, seed } = this.options;
    const seeded = await transactions.run((manager) => schemas.seedIfEmpty(manager, seed.map(bundledRow)));
    if (seeded > 0) this.options.logger.log('seeded source schemas from the bundled files', { seeded });
    this.cursor = await transactions.run((manager) => schemas.registryCursor(manager));
    await this.reload();
  }

  /** One turn of following: the registry (when configured), then the stored set. */
  async follow(): Promise<void> {
    if (this.options.registry) await this.fromRegistry(this.options.registry);
    await this.reload();
  }

  private async fromRegistry(registry: EventSchemaRegistry): Promise<void> {
    const newest = await registry.newest();
    for (const artifact of newest) {
      const seen = this.cursor.get(artifact.name) ?? 0;
      if (artifact.version <= seen) continue;
      const versions = (await registry.versions(artifact.name)).filter((version) => version.version > seen);
      for (const version of versions) {
        const outcome = await this.adopt(version);
        this.options.outcomes.inc({ outcome });
        this.cursor.set(artifact.name, version.version);
      }
    }
  }

  private async adopt(version: RegistryEventSchema): Promise<RegistryOutcome> {
    const where = { artifact: `event-schema/${version.name}`, registryVersion: version.version };
    const refused = (outcome: RegistryOutcome, why: string): RegistryOutcome => {
      this.options.logger.warn(`registry version refused (${outcome}): ${why}`, where);
      return outcome;
    };
    if (contentHashOf(version.content) !== version.contentHash) {
      return refused('hash-mismatch', 'the content governance served does not hash to its contentHash');
    }
    try {
      new SourceCatalog([version.content], { maxPayloadDepth: this.options.maxPayloadDepth });
    } catch (error) {
      if (!(error instanceof SourceDefinitionError)) throw error;
      return refused('invalid', error.message);
    }
    const { system, version: schemaVersion } = version.content as { system: string; version: number };
    if (system !== version.name) {
      return refused('misnamed', `its content defines system '${system}', not '${version.name}'`);
    }
    const outcome = await this.options.transactions.run((manager) =>
      this.options.schemas.adopt(manager, {
        system,
        version: schemaVersion,
        content: version.content,
        contentHash: version.contentHash,
        origin: 'governance',
        registryVersion: version.version,
      }),
    );
    if (outcome === 'conflict') {
      return refused(
        'conflict',
        `${system}@${schemaVersion} is held with other content; a new version is needed`,
      );
    }
    if (outcome === 'adopted')
      this.options.logger.log('adopted source schema', { ...where, system, schemaVersion });
    return outcome;
  }

  private async reload(): Promise<void> {
    const { transactions, schemas } = this.options;
    const count = await transactions.run((manager) => schemas.count(manager));
    if (count === this.storedCount) return;
    const stored = await transactions.run((manager) => schemas.all(manager));
    this.options.catalog.replace(stored.map((schema) => schema.content));
    this.storedCount = stored.length;
  }
}

function bundledRow(content: unknown): StoredSourceSchema {
  const { system, version } = content as { system: string; version: number };
  return { system, version, content, contentHash: contentHashOf(content), origin: 'bundled' };
}
