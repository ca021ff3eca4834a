import { bundledSources } from '@keel/ingestion-domain';
import { contentHashOf } from '@keel/releases';
import { Counter, Registry } from 'prom-client';
import type { EntityManager } from 'typeorm';
import type { Adoption, SourceSchemas, StoredSourceSchema } from '../persistence/source-schemas.repository';
import type { Transactions } from '../persistence/transactions';
import type { EventSchemaRegistry, RegistryEventSchema } from './governance-event-schemas';
import { LiveSourceCatalog } from './live-source-catalog';
import { SourceSchemaFollower } from './source-schema-follower';

/** The stored versions, as the Postgres repository keeps them (rows only added, keyed by system and version). */
class StoredSchemas implements SourceSchemas {
  readonly rows: StoredSourceSchema[] = [];

  seedIfEmpty(_manager: EntityManager, seed: readonly StoredSourceSchema[]): Promise<number> {
    if (this.rows.length > 0) return Promise.resolve(0);
    this.rows.push(...seed);
    return Promise.resolve(seed.length);
  }
  all(): Promise<StoredSourceSchema[]> {
    return Promise.resolve([...this.rows]);
  }
  count(): Promise<number> {
    return Promise.resolve(this.rows.length);
  }
  adopt(_manager: EntityManager, schema: StoredSourceSchema): Promise<Adoption> {
    const held = this.rows.find((row) => row.system === schema.system && row.version === schema.version);
    if (!held) {
      this.rows.push(schema);
      return Promise.resolve('adopted');
    }
    return Promise.resolve(held.contentHash === schema.contentHash ? 'known' : 'conflict');
  }
  registryCursor(): Promise<Map<string, number>> {
    const cursor = new Map<string, number>();
    for (const row of this.rows) {
      if (row.registryVersion !== undefined)
        cursor.set(row.system, Math.max(cursor.get(row.system) ?? 0, row.registryVersion));
    }
    return Promise.resolve(cursor);
  }
}

class RegistryDouble implements EventSchemaRegistry {
  readonly artifacts = new Map<string, RegistryEventSchema[]>();
  down = false;
  fetched: string[] = [];

  register(name: string, content: unknown, contentHash = contentHashOf(content)): void {
    const versions = this.artifacts.get(name) ?? [];
    versions.push({ name, version: versions.length + 1, contentHash, content });
    this.artifacts.set(name, versions);
  }
  newest(): Promise<Array<{ name: string; version: number }>> {
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED'));
    return Promise.resolve(
      [...this.artifacts].map(([name, versions]) => ({ name, version: versions.length })),
    );
  }
  versions(name: string): Promise<RegistryEventSchema[]> {
    this.fetched.push(name);
    return Promise.resolve([...(this.artifacts.get(name) ?? [])]);
  }
}

const transactions: Pick<Transactions, 'run'> = { run: (work) => work({} as EntityManager) };
const orderV2 = bundledSources[1] as Record<string, unknown>;
const orderV3 = { ...orderV2, version: 3, description: 'v3' };
const submission = (schemaVersion: number) => ({
  tenant: 'acme',
  system: 'order-system',
  eventType: 'order.placed',
  schemaVersion,
  payload: {
    eventId: 'e-1',
    orderId: 'A-1',
    occurredAt: '2026-12-01T09:00:00Z',
    customer: { id: 'c-1' },
    region: 'EU',
    weightGrams: 2000,
    address: { country: 'DE', postalCode: '10115', city: 'Berlin' },
    lines: [{ sku: 's', quantity: 1 }],
  },
});

function setUp(stored = new StoredSchemas()) {
  const registry = new RegistryDouble();
  const catalog = new LiveSourceCatalog(bundledSources, { maxPayloadDepth: 12 });
  const metrics = new Registry();
  const outcomes = new Counter({
    name: 'outcomes',
    help: 'h',
    labelNames: ['outcome'],
    registers: [metrics],
  });
  const warnings: string[] = [];
  const follower = new SourceSchemaFollower({
    transactions,
    schemas: stored,
    catalog,
    registry,
    seed: bundledSources,
    maxPayloadDepth: 12,
    outcomes,
    logger: {
      log: () => undefined,
      warn: (message: string) => warnings.push(message),
      error: () => undefined,
    },
  });
  const counted = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await outcomes.get()).values.map((value): [string, number] => [
        String(value.labels.outcome),
        value.value,
      ]),
    );
  return { stored, registry, catalog, follower, counted, warnings };
}

describe('SourceSchemaFollower', () => {
  it('seeds a fresh install from the bundled files once, and admits from what is stored', async () => {
    const { stored, follower, catalog } = setUp();
    await follower.start();

    expect(stored.rows.map((row) => `${row.system}@${row.version}:${row.origin}`)).toContain(
      'order-system@2:bundled',
    );
    expect((await catalog.admit(submission(2))).outcome).toBe('admitted');

    const again = setUp(stored);
    await again.follower.start();
    expect(stored.rows).toHaveLength(bundledSources.length);
  });

  it('adopts a registry version beside the ones in force, fetching each artifact once', async () => {
    const { registry, follower, catalog, counted } = setUp();
    await follower.start();
    expect(await catalog.admit(submission(3))).toMatchObject({
      outcome: 'rejected',
      rejection: { code: 'unknown-schema-version' },
    });

    registry.register('order-system', orderV3);
    await follower.follow();
    await follower.follow();

    expect((await catalog.admit(submission(3))).outcome).toBe('admitted');
    expect((await catalog.admit(submission(2))).outcome).toBe('admitted');
    expect(registry.fetched).toEqual(['order-system']);
    expect(await counted()).toEqual({ adopted: 1 });
  });

  it('refuses content that does not match its hash, is misnamed, invalid, or changes a stored version', async () => {
    const { registry, follower, catalog, counted, warnings } = setUp();
    await follower.start();

    registry.register('order-system', orderV3, 'f'.repeat(64));
    registry.register('erp', { ...orderV3, version: 9 });
    registry.register('order-system', { ...orderV3, version: 4, payloadSchema: { type: 'nonsense' } });
    registry.register('order-system', { ...orderV2, description: 'v2 rewritten' });
    registry.register('order-system', orderV2);
    await follower.follow();

    expect(await counted()).toEqual({ 'hash-mismatch': 1, misnamed: 1, invalid: 1, conflict: 1, known: 1 });
    expect(warnings).toHaveLength(4);
    expect(catalog.list().find((source) => source.system === 'order-system')?.versions).toEqual([1, 2]);
  });

  it('keeps the versions in force while governance is unreachable', async () => {
    const { registry, follower, catalog } = setUp();
    await follower.start();
    registry.down = true;

    await expect(follower.follow()).rejects.toThrow('ECONNREFUSED');
    expect((await catalog.admit(submission(2))).outcome).toBe('admitted');
  });

  it('resumes from the stored registry versions after a restart: nothing adopted is fetched again', async () => {
    const first = setUp();
    await first.follower.start();
    first.registry.register('order-system', orderV3);
    await first.follower.follow();

    const restarted = setUp(first.stored);
    restarted.registry.artifacts.set('order-system', first.registry.artifacts.get('order-system') ?? []);
    await restarted.follower.start();
    await restarted.follower.follow();

    expect(restarted.registry.fetched).toEqual([]);
    expect((await restarted.catalog.admit(submission(3))).outcome).toBe('admitted');
  });
});
