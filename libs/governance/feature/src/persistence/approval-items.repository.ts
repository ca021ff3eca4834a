import { type ApprovalItem, type ApprovalStatus, type JsonValue } from '@keel/governance-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** Which items a listing asks for. */
export interface ApprovalFilter {
  readonly status: ApprovalStatus;
  /** Only items routed to this approver role (the escalation role once escalated). */
  readonly approverRole?: string;
  readonly limit: number;
}

/** The port: the approvals inbox and the people tied to each case (for four-eyes). */
export interface ApprovalItems {
  /** The item, locked until the transaction ends when `lock` is set. */
  find(manager: EntityManager, tenant: string, id: string, lock?: boolean): Promise<ApprovalItem | undefined>;
  /** Inserts a new item; false when one with its id is already there (a redelivered request). */
  insert(manager: EntityManager, item: ApprovalItem): Promise<boolean>;
  update(manager: EntityManager, item: ApprovalItem): Promise<void>;
  /** Oldest first. */
  list(manager: EntityManager, tenant: string, filter: ApprovalFilter): Promise<ApprovalItem[]>;
  /**
   * Pending guardrail holds of any tenant past their deadline and not escalated yet, oldest first, locked
   * (skipping those another replica holds).
   */
  dueHolds(manager: EntityManager, now: Date, limit: number): Promise<ApprovalItem[]>;
  addParties(
    manager: EntityManager,
    tenant: string,
    caseId: string,
    parties: readonly string[],
  ): Promise<void>;
  partiesOf(manager: EntityManager, tenant: string, caseId: string): Promise<string[]>;
}

interface ApprovalItemRecord {
  tenant: string;
  id: string;
  kind: ApprovalItem['kind'];
  case_id: string;
  status: ApprovalStatus;
  title: string;
  approver_role: string;
  due_at: Date | null;
  escalated: boolean;
  escalated_at: Date | null;
  instance_id: string | null;
  step_id: string | null;
  run: number | null;
  decision_id: string | null;
  requested_at: Date;
  requested_by: string[];
  context: JsonValue;
  decided_by: string | null;
  reason: string | null;
  decided_at: Date | null;
}

const columns = `tenant, id, kind, case_id, status, title, approver_role, due_at, escalated, escalated_at,
  instance_id, step_id, run, decision_id, requested_at, requested_by, context, decided_by, reason, decided_at`;

/** `<schema>.approval_items` and `<schema>.case_parties` in Postgres. */
export class PostgresApprovalItems implements ApprovalItems {
  private readonly items: string;
  private readonly parties: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.items = `"${schema}"."approval_items"`;
    this.parties = `"${schema}"."case_parties"`;
  }

  async find(
    manager: EntityManager,
    tenant: string,
    id: string,
    lock = false,
  ): Promise<ApprovalItem | undefined> {
    const [record] = await manager.query<ApprovalItemRecord[]>(
      `SELECT ${columns} FROM ${this.items} WHERE tenant = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
      [tenant, id],
    );
    return record === undefined ? undefined : itemOf(record);
  }

  async insert(manager: EntityManager, item: ApprovalItem): Promise<boolean> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO ${this.items} (${columns})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb, $18, $19, $20)
       ON CONFLICT (tenant, id) DO NOTHING RETURNING id`,
      valuesOf(item),
    );
    return inserted.length > 0;
  }

  async update(manager: EntityManager, item: ApprovalItem): Promise<void> {
    await manager.query(
      `UPDATE ${this.items} SET kind = $3, case_id = $4, status = $5, title = $6, approver_role = $7, due_at = $8,
         escalated = $9, escalated_at = $10, instance_id = $11, step_id = $12, run = $13, decision_id = $14,
         requested_at = $15, requested_by = $16, context = $17::jsonb, decided_by = $18, reason = $19,
         decided_at = $20
       WHERE tenant = $1 AND id = $2`,
      valuesOf(item),
    );
  }

  async list(manager: EntityManager, tenant: string, filter: ApprovalFilter): Promise<ApprovalItem[]> {
    const records = await manager.query<ApprovalItemRecord[]>(
      `SELECT ${columns} FROM ${this.items}
       WHERE tenant = $1 AND status = $2 AND ($3::text IS NULL OR approver_role = $3)
       ORDER BY requested_at, id LIMIT $4`,
      [tenant, filter.status, filter.approverRole ?? null, filter.limit],
    );
    return records.map(itemOf);
  }

  async dueHolds(manager: EntityManager, now: Date, limit: number): Promise<ApprovalItem[]> {
    const records = await manager.query<ApprovalItemRecord[]>(
      `SELECT ${columns} FROM ${this.items}
       WHERE kind = 'guardrail-hold' AND status = 'pending' AND NOT escalated AND due_at <= $1
       ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    return records.map(itemOf);
  }

  async addParties(
    manager: EntityManager,
    tenant: string,
    caseId: string,
    parties: readonly string[],
  ): Promise<void> {
    if (parties.length === 0) return;
    await manager.query(
      `INSERT INTO ${this.parties} (tenant, case_id, party)
       SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
      [tenant, caseId, parties],
    );
  }

  async partiesOf(manager: EntityManager, tenant: string, caseId: string): Promise<string[]> {
    const rows = await manager.query<Array<{ party: string }>>(
      `SELECT party FROM ${this.parties} WHERE tenant = $1 AND case_id = $2 ORDER BY party`,
      [tenant, caseId],
    );
    return rows.map((row) => row.party);
  }
}

function valuesOf(item: ApprovalItem): unknown[] {
  return [
    item.tenant,
    item.id,
    item.kind,
    item.caseId,
    item.status,
    item.title,
    item.approverRole,
    item.dueAt ?? null,
    item.escalated,
    item.escalatedAt ?? null,
    item.instanceId ?? null,
    item.stepId ?? null,
    item.run ?? null,
    item.decisionId ?? null,
    item.requestedAt,
    item.requestedBy,
    JSON.stringify(item.context),
    item.decidedBy ?? null,
    item.reason ?? null,
    item.decidedAt ?? null,
  ];
}

function itemOf(record: ApprovalItemRecord): ApprovalItem {
  const iso = (value: Date | null) => (value === null ? undefined : new Date(value).toISOString());
  const optional = <K extends string, V>(key: K, value: V | null | undefined) =>
    (value === null || value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
  return {
    tenant: record.tenant,
    id: record.id,
    kind: record.kind,
    caseId: record.case_id,
    status: record.status,
    title: record.title,
    approverRole: record.approver_role,
    ...optional('dueAt', iso(record.due_at)),
    escalated: record.escalated,
    ...optional('escalatedAt', iso(record.escalated_at)),
    ...optional('instanceId', record.instance_id),
    ...optional('stepId', record.step_id),
    ...optional('run', record.run),
    ...optional('decisionId', record.decision_id),
    requestedAt: new Date(record.requested_at).toISOString(),
    requestedBy: record.requested_by,
    context: record.context,
    ...optional('decidedBy', record.decided_by),
    ...optional('reason', record.reason),
    ...optional('decidedAt', iso(record.decided_at)),
  };
}
