import { type DecisionRecord } from '@keel/contracts';
import { type CaseHistoryEntry, recordBytes } from '@keel/decisioning-domain';
import { guardIn, type OutboxInsert, outboxCte } from '@keel/messaging';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** One case event as the memory keeps it. */
export interface RememberedEvent extends CaseHistoryEntry {
  readonly tenant: string;
  readonly caseId: string;
}

/** A stored case event row as the history queries return it. */
export interface HistoryRow {
  readonly event_id: string;
  readonly event: Omit<CaseHistoryEntry, 'eventId'>;
}

/** The order a history entry is built in: a record's bytes depend on it. */
export function historyEntryOf(row: HistoryRow): CaseHistoryEntry {
  return {
    eventId: row.event_id,
    eventType: row.event.eventType,
    occurredAt: row.event.occurredAt,
    attributes: row.event.attributes,
  };
}

/**
 * The case memory and the decisions table. The schema is injected so tests and deployments choose it. Every
 * method runs on the manager it is given: a transaction, or the data source's for a single statement.
 */
export class CaseMemoryRepository {
  private readonly caseEvents: string;
  private readonly decisions: string;
  private readonly triggers: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.caseEvents = `"${schema}"."case_events"`;
    this.decisions = `"${schema}"."decisions"`;
    this.triggers = `"${schema}"."decision_triggers"`;
  }

  /**
   * The case's newest `limit` events remembered at or before `position` (the trigger's place in the memory),
   * oldest first.
   */
  async historyOf(
    manager: EntityManager,
    tenant: string,
    caseId: string,
    limit: number,
    position: string,
  ): Promise<CaseHistoryEntry[]> {
    const rows = await manager.query<HistoryRow[]>(
      `SELECT event_id, event FROM (
         SELECT event_id, event, occurred_at FROM ${this.caseEvents}
         WHERE tenant = $1 AND case_id = $2 AND position <= $4
         ORDER BY occurred_at DESC, event_id DESC
         LIMIT $3
       ) newest ORDER BY occurred_at, event_id`,
      [tenant, caseId, limit, position],
    );
    return rows.map(historyEntryOf);
  }

  /**
   * Keeps the records, each once: returns the ids that were new. A record already stored (another replica
   * or an earlier delivery decided the same trigger) is not returned, so it is not published again. The
   * triggers `decided` leave the decision queue in the same statement, and `outbox`'s rows go in with it
   * where their guard is the id of a record stored now: one statement, atomic without a transaction.
   */
  async saveDecisions(
    manager: EntityManager,
    decisions: ReadonlyArray<{ readonly tenant: string; readonly record: DecisionRecord }>,
    decided: readonly string[] = [],
    outbox?: OutboxInsert,
  ): Promise<Set<string>> {
    if (decisions.length === 0) return new Set();
    // One VALUES row per record, each value a parameter of its own: array parameters would have pg escape
    // every quote of every record's JSON.
    const params: unknown[] = [decided];
    const values = decisions.map(({ tenant, record }) => {
      params.push(record.decisionId, tenant, record.caseId, recordBytes(record));
      const n = params.length;
      return `($${n - 3}, $${n - 2}, $${n - 1}, $${n}::json)`;
    });
    const outboxed = outboxCte(outbox, params.length + 1, guardIn('SELECT decision_id FROM stored'));
    const rows = await manager.query<Array<{ decision_id: string }>>(
      `WITH dequeued AS (DELETE FROM ${this.triggers} WHERE decision_id = ANY($1::text[])),
       stored AS (
         INSERT INTO ${this.decisions} (decision_id, tenant, case_id, record) VALUES ${values.join(', ')}
         ON CONFLICT (decision_id) DO NOTHING
         RETURNING decision_id)${outboxed}
       SELECT decision_id FROM stored`,
      [...params, ...(outbox?.parameters ?? [])],
    );
    return new Set(rows.map((row) => row.decision_id));
  }

  /** A stored record's bytes, exactly as published. */
  async decisionBytes(manager: EntityManager, decisionId: string): Promise<string | undefined> {
    // As text: the bytes as published, not a re-serialization.
    const rows = await manager.query<Array<{ record: string }>>(
      `SELECT record::text AS record FROM ${this.decisions} WHERE decision_id = $1`,
      [decisionId],
    );
    return rows[0]?.record;
  }
}
