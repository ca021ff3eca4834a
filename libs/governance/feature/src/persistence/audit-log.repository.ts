import { type AuditRow, type ChainCheckpoint, type ChainHead, type JsonValue } from '@keel/governance-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** The port: a tenant's hash-chained audit rows; rows are appended, never changed. */
export interface AuditLog {
  /** The end of the tenant's chain (undefined while empty), locked until the transaction ends. */
  lockHead(manager: EntityManager, tenant: string): Promise<ChainHead | undefined>;
  /**
   * Appends rows (in position order, continuing the locked head) and moves the head to the last; `eventTexts`
   * are the rows' events as JSON when the caller has them already.
   */
  append(
    manager: EntityManager,
    tenant: string,
    rows: readonly AuditRow[],
    eventTexts?: readonly string[],
  ): Promise<void>;
  /** Up to `limit` rows after `position`, in position order. */
  page(manager: EntityManager, tenant: string, afterPosition: number, limit: number): Promise<AuditRow[]>;
  /** A case's rows (by subject), in chain order. */
  ofCase(manager: EntityManager, tenant: string, subject: string): Promise<AuditRow[]>;
  /**
   * A case's rows and, in the same read, the rows of other subjects its rows name as their cause (the raw
   * source event a normalized event came from, keyed by the source system, not the case), in chain order.
   */
  lineageOf(manager: EntityManager, tenant: string, subject: string): Promise<AuditRow[]>;
  /** The newest retention checkpoint of the tenant's chain, if it was ever pruned. */
  latestCheckpoint(manager: EntityManager, tenant: string): Promise<ChainCheckpoint | undefined>;
  /** The first position after `afterPosition` recorded at or after `since`; undefined when none is. */
  firstRecordedSince(
    manager: EntityManager,
    tenant: string,
    afterPosition: number,
    since: Date,
  ): Promise<number | undefined>;
  /** Stores the checkpoint and deletes the rows up to its position, in the caller's transaction. */
  prune(manager: EntityManager, checkpoint: ChainCheckpoint): Promise<number>;
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

/** `<schema>.audit_log`, `<schema>.audit_heads` and `<schema>.audit_checkpoints` in Postgres. */
export class PostgresAuditLog implements AuditLog {
  private readonly log: string;
  private readonly heads: string;
  private readonly checkpoints: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.log = `"${schema}"."audit_log"`;
    this.heads = `"${schema}"."audit_heads"`;
    this.checkpoints = `"${schema}"."audit_checkpoints"`;
  }

  async lockHead(manager: EntityManager, tenant: string): Promise<ChainHead | undefined> {
    // One statement creates the head on the tenant's first event and locks it as FOR UPDATE would: the no-op
    // update waits for a transaction holding the row and returns the head as that one committed it.
    const [head] = await manager.query<Array<{ position: string; row_hash: string }>>(
      `INSERT INTO ${this.heads} AS heads (tenant, position, row_hash) VALUES ($1, 0, '')
       ON CONFLICT (tenant) DO UPDATE SET position = heads.position
       RETURNING position, row_hash`,
      [tenant],
    );
    return head === undefined || head.position === '0'
      ? undefined
      : { position: Number(head.position), rowHash: head.row_hash };
  }

  async append(
    manager: EntityManager,
    tenant: string,
    rows: readonly AuditRow[],
    eventTexts?: readonly string[],
  ): Promise<void> {
    const last = rows.at(-1);
    if (last === undefined) return;
    const column = <K extends keyof AuditRow>(field: K) => rows.map((row) => row[field]);
    // The rows and the head's move in one statement (one round trip while the head is locked). The events go
    // as one JSON array, not a text[]: pg would escape every quote of every event's JSON in an array parameter.
    const events = eventTexts ?? rows.map((row) => JSON.stringify(row.event));
    await manager.query(
      `WITH appended AS (
         INSERT INTO ${this.log} (${columns})
         SELECT $1, a.p, a.e, a.t, a.ty, a.s, a.o, ev.value, a.ph, a.rh
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
           WITH ORDINALITY AS a(p, e, t, ty, s, o, ph, rh, n)
         JOIN jsonb_array_elements($10::jsonb) WITH ORDINALITY AS ev(value, n) ON ev.n = a.n
       )
       UPDATE ${this.heads} SET position = $11, row_hash = $12 WHERE tenant = $1`,
      [
        tenant,
        column('position'),
        column('eventId'),
        column('topic'),
        column('type'),
        column('subject'),
        column('occurredAt'),
        column('previousHash'),
        column('rowHash'),
        `[${events.join(',')}]`,
        last.position,
        last.rowHash,
      ],
    );
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

  async lineageOf(manager: EntityManager, tenant: string, subject: string): Promise<AuditRow[]> {
    const rows = await manager.query<AuditRowRecord[]>(
      `WITH own AS (
         SELECT ${columns} FROM ${this.log} WHERE tenant = $1 AND subject = $2
       )
       SELECT * FROM own
       UNION ALL
       SELECT ${columns} FROM ${this.log}
       WHERE tenant = $1 AND subject <> $2
         AND event_id IN (SELECT event->>'causationid' FROM own WHERE event ? 'causationid')
       ORDER BY position`,
      [tenant, subject],
    );
    return rows.map(rowOf);
  }

  async latestCheckpoint(manager: EntityManager, tenant: string): Promise<ChainCheckpoint | undefined> {
    const [record] = await manager.query<CheckpointRecord[]>(
      `SELECT tenant, position, row_hash, pruned_at, pruned_rows, signature FROM ${this.checkpoints}
       WHERE tenant = $1 ORDER BY position DESC LIMIT 1`,
      [tenant],
    );
    if (record === undefined) return undefined;
    return {
      tenant: record.tenant,
      position: Number(record.position),
      rowHash: record.row_hash,
      prunedAt: new Date(record.pruned_at).toISOString(),
      prunedRows: Number(record.pruned_rows),
      signature: record.signature,
    };
  }

  async firstRecordedSince(
    manager: EntityManager,
    tenant: string,
    afterPosition: number,
    since: Date,
  ): Promise<number | undefined> {
    // Walks the primary key from the oldest row kept: the rows it passes are the ones about to be pruned.
    const [row] = await manager.query<Array<{ position: string }>>(
      `SELECT position FROM ${this.log}
       WHERE tenant = $1 AND position > $2 AND recorded_at >= $3 ORDER BY position LIMIT 1`,
      [tenant, afterPosition, since],
    );
    return row === undefined ? undefined : Number(row.position);
  }

  async prune(manager: EntityManager, checkpoint: ChainCheckpoint): Promise<number> {
    await manager.query(
      `INSERT INTO ${this.checkpoints} (tenant, position, row_hash, pruned_at, pruned_rows, signature)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        checkpoint.tenant,
        checkpoint.position,
        checkpoint.rowHash,
        checkpoint.prunedAt,
        checkpoint.prunedRows,
        checkpoint.signature,
      ],
    );
    const [, deleted] = await manager.query<[unknown, number]>(
      `DELETE FROM ${this.log} WHERE tenant = $1 AND position <= $2`,
      [checkpoint.tenant, checkpoint.position],
    );
    return deleted;
  }
}

interface CheckpointRecord {
  tenant: string;
  position: string;
  row_hash: string;
  pruned_at: Date;
  pruned_rows: string;
  signature: string;
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
