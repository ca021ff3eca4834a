import { type DecisionRecord } from '@keel/contracts';
import { type CaseHistoryEntry, recordBytes } from '@keel/decisioning-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** One case event as the memory keeps it. */
export interface RememberedEvent extends CaseHistoryEntry {
  readonly tenant: string;
  readonly caseId: string;
}

/**
 * The case memory and the decisions table. All SQL of the service lives here; the schema is injected so tests
 * and deployments choose it. Every method runs in the caller's transaction.
 */
export class CaseMemoryRepository {
  private readonly caseEvents: string;
  private readonly decisions: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.caseEvents = `"${schema}"."case_events"`;
    this.decisions = `"${schema}"."decisions"`;
  }

  /** Keeps an event once; a redelivered one changes nothing. */
  async remember(manager: EntityManager, event: RememberedEvent): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.caseEvents} (tenant, case_id, event_id, occurred_at, event)
       VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (tenant, case_id, event_id) DO NOTHING`,
      [
        event.tenant,
        event.caseId,
        event.eventId,
        event.occurredAt,
        JSON.stringify({
          eventType: event.eventType,
          occurredAt: event.occurredAt,
          attributes: event.attributes,
        }),
      ],
    );
  }

  /** The case's newest `limit` events, oldest first. */
  async historyOf(
    manager: EntityManager,
    tenant: string,
    caseId: string,
    limit: number,
  ): Promise<CaseHistoryEntry[]> {
    const rows = await manager.query<Array<{ event_id: string; event: Omit<CaseHistoryEntry, 'eventId'> }>>(
      `SELECT event_id, event FROM (
         SELECT event_id, event, occurred_at FROM ${this.caseEvents}
         WHERE tenant = $1 AND case_id = $2
         ORDER BY occurred_at DESC, event_id DESC
         LIMIT $3
       ) newest ORDER BY occurred_at, event_id`,
      [tenant, caseId, limit],
    );
    return rows.map((row) => ({
      eventId: row.event_id,
      eventType: row.event.eventType,
      occurredAt: row.event.occurredAt,
      attributes: row.event.attributes,
    }));
  }

  async saveDecision(manager: EntityManager, tenant: string, record: DecisionRecord): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.decisions} (decision_id, tenant, case_id, record) VALUES ($1, $2, $3, $4::json)
       ON CONFLICT (decision_id) DO NOTHING`,
      [record.decisionId, tenant, record.caseId, recordBytes(record)],
    );
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
