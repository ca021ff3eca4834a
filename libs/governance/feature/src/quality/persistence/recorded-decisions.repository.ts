import { type DecisionRecord, topics } from '@keel/contracts';
import { type ApprovalAnswer, inboxAuditTopic } from '@keel/governance-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** A decision record as the audit log holds it, with its place in the tenant's chain. */
export interface RecordedDecision {
  readonly position: number;
  readonly occurredAt: string;
  readonly record: DecisionRecord;
}

export interface DecisionQuery {
  readonly mode?: DecisionRecord['mode'];
  /** Only decisions made at or after this instant. */
  readonly from?: string;
  /** Only decisions made before this instant. */
  readonly before?: string;
  /** Only decisions made under these agent and guardrail policy versions (as the records name them). */
  readonly versions?: Pick<DecisionRecord['versions'], 'agentPolicy' | 'guardrailPolicy'>;
  /** The newest `limit` that match. */
  readonly limit: number;
}

/**
 * The port: decisions and approval answers as the audit log recorded them from `keel.decisions.v1`,
 * `keel.governance.approvals.v1` and the approvals inbox's hold answers — the replay gate's and drift
 * monitor's evidence, never the live topics.
 */
export interface RecordedDecisions {
  /** Matching decisions, newest first. */
  newest(manager: EntityManager, tenant: string, query: DecisionQuery): Promise<RecordedDecision[]>;
  /** Granted and rejected answers on these cases, in chain order. */
  answersOn(manager: EntityManager, tenant: string, caseIds: readonly string[]): Promise<ApprovalAnswer[]>;
  /** Tenants with a release in production: the ones the drift monitor looks at. */
  tenantsInProduction(manager: EntityManager): Promise<string[]>;
}

/** Reads `<schema>.audit_log` (rows are stored under the registry's topic names) and `release_scopes`. */
export class PostgresRecordedDecisions implements RecordedDecisions {
  private readonly log: string;
  private readonly scopes: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.log = `"${schema}"."audit_log"`;
    this.scopes = `"${schema}"."release_scopes"`;
  }

  async newest(manager: EntityManager, tenant: string, query: DecisionQuery): Promise<RecordedDecision[]> {
    const conditions = ['tenant = $1', 'topic = $2'];
    const parameters: unknown[] = [tenant, topics.decisions.name];
    const add = (condition: (placeholder: string) => string, value: unknown) => {
      parameters.push(value);
      conditions.push(condition(`$${parameters.length}`));
    };
    if (query.mode !== undefined) add((p) => `event->'data'->>'mode' = ${p}`, query.mode);
    if (query.from !== undefined) add((p) => `occurred_at::timestamptz >= ${p}::timestamptz`, query.from);
    if (query.before !== undefined) add((p) => `occurred_at::timestamptz < ${p}::timestamptz`, query.before);
    if (query.versions !== undefined) {
      add(
        (p) => `event->'data'->'versions'->'agentPolicy' = ${p}::jsonb`,
        JSON.stringify(query.versions.agentPolicy),
      );
      add(
        (p) => `event->'data'->'versions'->'guardrailPolicy' = ${p}::jsonb`,
        JSON.stringify(query.versions.guardrailPolicy),
      );
    }
    parameters.push(query.limit);
    const rows = await manager.query<
      Array<{ position: string; occurred_at: string; record: DecisionRecord }>
    >(
      `SELECT position, occurred_at, event->'data' AS record FROM ${this.log}
       WHERE ${conditions.join(' AND ')} ORDER BY position DESC LIMIT $${parameters.length}`,
      parameters,
    );
    // The audit consumer stored only events whose data passed the topic's schema, so the record is one.
    return rows.map((row) => ({
      position: Number(row.position),
      occurredAt: row.occurred_at,
      record: row.record,
    }));
  }

  async answersOn(
    manager: EntityManager,
    tenant: string,
    caseIds: readonly string[],
  ): Promise<ApprovalAnswer[]> {
    if (caseIds.length === 0) return [];
    const rows = await manager.query<
      Array<{ position: string; subject: string; status: 'granted' | 'rejected' }>
    >(
      `SELECT position, subject, event->'data'->>'status' AS status FROM ${this.log}
       WHERE tenant = $1 AND subject = ANY($2::text[]) AND topic = ANY($3::text[])
         AND event->'data'->>'status' IN ('granted', 'rejected')
       ORDER BY position`,
      // Workflow approval steps answer on the approvals topic; a guardrail hold's answer is the inbox's row.
      [tenant, [...new Set(caseIds)], [topics.approvals.name, inboxAuditTopic]],
    );
    return rows.map((row) => ({ position: Number(row.position), caseId: row.subject, status: row.status }));
  }

  async tenantsInProduction(manager: EntityManager): Promise<string[]> {
    const rows = await manager.query<Array<{ tenant: string }>>(
      `SELECT tenant FROM ${this.scopes} WHERE jsonb_array_length(production_line) > 0 ORDER BY tenant`,
    );
    return rows.map((row) => row.tenant);
  }
}
