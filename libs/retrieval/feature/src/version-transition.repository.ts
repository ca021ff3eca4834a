import type { TenantTransition, VersionTransition, VersionTransitions } from '@keel/retrieval-data-access';
import type { DataSource, EntityManager } from 'typeorm';
import { unavailableOnFailure } from './embedded-index.repository';

interface TransitionRow {
  tenant: string;
  document_id: string;
  state: 'switched' | 'deleted';
  version: number | null;
}

/** The Qdrant adapter's documents in transition, in retrieval's schema. All of its SQL lives here. */
export class VersionTransitionRepository {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${schema}"."version_transitions"`;
  }

  async ofTenant(manager: EntityManager, tenant: string): Promise<VersionTransition[]> {
    const rows = await manager.query<TransitionRow[]>(
      `SELECT tenant, document_id, state, version FROM ${this.table} WHERE tenant = $1`,
      [tenant],
    );
    return rows.map(transitionOf);
  }

  async all(manager: EntityManager): Promise<TenantTransition[]> {
    const rows = await manager.query<TransitionRow[]>(
      `SELECT tenant, document_id, state, version FROM ${this.table}`,
    );
    return rows.map((row) => ({ tenant: row.tenant, transition: transitionOf(row) }));
  }

  async record(manager: EntityManager, tenant: string, transition: VersionTransition): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.table} (tenant, document_id, state, version, recorded_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (tenant, document_id) DO UPDATE SET
         state = EXCLUDED.state, version = EXCLUDED.version, recorded_at = EXCLUDED.recorded_at`,
      [tenant, transition.documentId, transition.state, versionOf(transition)],
    );
  }

  async settle(manager: EntityManager, tenant: string, transition: VersionTransition): Promise<void> {
    await manager.query(
      `DELETE FROM ${this.table}
        WHERE tenant = $1 AND document_id = $2 AND state = $3 AND version IS NOT DISTINCT FROM $4::int`,
      [tenant, transition.documentId, transition.state, versionOf(transition)],
    );
  }
}

/** `VersionTransitions` over the repository, each call committed at once: other processes search by it. */
export class PostgresVersionTransitions implements VersionTransitions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: VersionTransitionRepository,
  ) {}

  ofTenant(tenant: string): Promise<VersionTransition[]> {
    return unavailableOnFailure('reading version transitions', () =>
      this.repository.ofTenant(this.dataSource.manager, tenant),
    );
  }

  all(): Promise<TenantTransition[]> {
    return unavailableOnFailure('reading version transitions', () =>
      this.repository.all(this.dataSource.manager),
    );
  }

  record(tenant: string, transition: VersionTransition): Promise<void> {
    return unavailableOnFailure('recording a version transition', () =>
      this.repository.record(this.dataSource.manager, tenant, transition),
    );
  }

  settle(tenant: string, transition: VersionTransition): Promise<void> {
    return unavailableOnFailure('settling a version transition', () =>
      this.repository.settle(this.dataSource.manager, tenant, transition),
    );
  }
}

function transitionOf(row: TransitionRow): VersionTransition {
  return row.state === 'switched'
    ? { documentId: row.document_id, state: 'switched', version: row.version as number }
    : { documentId: row.document_id, state: 'deleted' };
}

function versionOf(transition: VersionTransition): number | null {
  return transition.state === 'switched' ? transition.version : null;
}
