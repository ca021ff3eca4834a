import { type AuditRow, type ChainHead, type JsonValue } from '@keel/governance-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** The port: a tenant's hash-chained audit rows; rows are appended, never changed. */
export interface AuditLog {
  /** The end of the tenant's chain (undefined while empty), locked until the transaction ends. */
  lockHead(manager: EntityManager, tenant: string): Promise<ChainHead | undefined>;
  /** Appends rows (in position order, continuing the locked head) and moves the head to the last. */
  append(manager: EntityManager, tenant: string, rows: readonly AuditRow[]): Promise<void>;
  /** Up to `limit` rows after `position`, in position order. */
  page(manager: EntityManager, tenant: string, afterPosition: number, limit: number): Promise<AuditRow[]>;
  /** A case's rows (by subject), in chain order. */
  ofCase(manager: EntityManager, tenant: string, subject: string): Promise<AuditRow[]>;
}

interface AuditRowRecord {
  tenant: string;
  position: string;
  event_id: string;
  topic: string;
  type: string;
  subject: string;
  occurred_at: string;
  event: JsonValue;
  previous_hash: string;
  row_hash: string;
}

const columns =
  'tenant, position, event_id, topic, type, subject, occurred_at, event, previous_hash, row_hash';

/** `<schema>.audit_log` and `<schema>.audit_heads` in Postgres. */
export class PostgresAuditLog implements AuditLog {
  private readonly log: string;
  private readonly heads: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.log = `"${schema}"."audit_log"`;
    this.heads = `"${schema}"."audit_heads"`;
  }

  async lockHead(manager: EntityManager, tenant: string): Promise<ChainHead | undefined> {
    await manager.query(
      `INSERT INTO ${this.heads} (tenant, position, row_hash) VALUES ($1, 0, '') ON CONFLICT (tenant) DO NOTHING`,
      [tenant],
    );
    const [head] = await manager.query<Array<{ position: string; row_hash: string }>>(
      `SELECT position, row_hash FROM ${this.heads} WHERE tenant = $1 FOR UPDATE`,
      [tenant],
    );
    return head === undefined || head.position === '0'
      ? undefined
      : { position: Number(head.position), rowHash: head.row_hash };
  }

  async append(manager: EntityManager, tenant: string, rows: readonly AuditRow[]): Promise<void> {
    const last = rows.at(-1);
    if (last === undefined) return;
    const column = <K extends keyof AuditRow>(field: K) => rows.map((row) => row[field]);
    await manager.query(
      `INSERT INTO ${this.log} (${columns})
       SELECT $1, p, e, t, ty, s, o, ev::jsonb, ph, rh
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS a(p, e, t, ty, s, o, ev, ph, rh)`,
      [
        tenant,
        column('position'),
        column('eventId'),
        column('topic'),
        column('type'),
        column('subject'),
        column('occurredAt'),
        rows.map((row) => JSON.stringify(row.event)),
        column('previousHash'),
        column('rowHash'),
      ],
    );
    await manager.query(`UPDATE ${this.heads} SET position = $2, row_hash = $3 WHERE tenant = $1`, [
      tenant,
      last.position,
      last.rowHash,
    ]);
  }

  async page(
    manager: EntityManager,
    tenant: string,
    afterPosition: number,
    limit: number,
  ): Promise<AuditRow[]> {
    const rows = await manager.query<AuditRowRecord[]>(
      `SELECT ${columns} FROM ${this.log} WHERE tenant = $1 AND position > $2 ORDER BY position LIMIT $3`,
      [tenant, afterPosition, limit],
    );
    return rows.map(rowOf);
  }

  async ofCase(manager: EntityManager, tenant: string, subject: string): Promise<AuditRow[]> {
    const rows = await manager.query<AuditRowRecord[]>(
      `SELECT ${columns} FROM ${this.log} WHERE tenant = $1 AND subject = $2 ORDER BY position`,
      [tenant, subject],
    );
    return rows.map(rowOf);
  }
}

function rowOf(record: AuditRowRecord): AuditRow {
  return {
    tenant: record.tenant,
    position: Number(record.position),
    eventId: record.event_id,
    topic: record.topic,
    type: record.type,
    subject: record.subject,
    occurredAt: record.occurred_at,
    event: record.event,
    previousHash: record.previous_hash,
    rowHash: record.row_hash,
  };
}
