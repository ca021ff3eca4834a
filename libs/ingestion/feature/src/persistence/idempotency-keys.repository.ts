import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** An idempotency key with what was accepted under it. */
export interface AcceptedKey {
  readonly key: string;
  readonly eventId: string;
  readonly topic: string;
  readonly subject: string;
}

/** The port: claims a key inside the caller's transaction, so the key and the outbox row commit together. */
export interface IdempotencyKeys {
  /**
   * Claims every new key of `accepted` (the first occurrence, when one repeats); answers, by key, what was
   * accepted first under the keys held before. A key absent from the answer was claimed now.
   */
  claim(manager: EntityManager, accepted: readonly AcceptedKey[]): Promise<ReadonlyMap<string, AcceptedKey>>;
  /** Forgets up to `limit` keys accepted before `cutoff`; returns how many. */
  forgetBefore(manager: EntityManager, cutoff: Date, limit: number): Promise<number>;
}

interface KeyRow {
  key: string;
  event_id: string;
  topic: string;
  subject: string;
}

/** `<schema>.idempotency_keys` in Postgres. */
export class PostgresIdempotencyKeys implements IdempotencyKeys {
  private readonly table: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.table = `"${schema}"."idempotency_keys"`;
  }

  async claim(manager: EntityManager, accepted: readonly AcceptedKey[]): Promise<Map<string, AcceptedKey>> {
    const held = new Map<string, AcceptedKey>();
    if (accepted.length === 0) return held;
    const column = (field: keyof AcceptedKey) => accepted.map((item) => item[field]);
    // Rows go in in array order, so of a key repeated in the batch the first occurrence is the one stored.
    const inserted = await manager.query<Array<{ key: string }>>(
      `INSERT INTO ${this.table} (key, event_id, topic, subject)
       SELECT key, e, t, s FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
         WITH ORDINALITY AS a(key, e, t, s, n)
       ORDER BY n
       ON CONFLICT (key) DO NOTHING RETURNING key`,
      [column('key'), column('eventId'), column('topic'), column('subject')],
    );
    const claimed = new Set(inserted.map((row) => row.key));
    const others = [...new Set(column('key'))].filter((key) => !claimed.has(key));
    if (others.length === 0) return held;
    const rows = await manager.query<KeyRow[]>(
      `SELECT key, event_id, topic, subject FROM ${this.table} WHERE key = ANY($1::text[])`,
      [others],
    );
    for (const row of rows) {
      held.set(row.key, { key: row.key, eventId: row.event_id, topic: row.topic, subject: row.subject });
    }
    const lost = others.filter((key) => !held.has(key));
    if (lost.length > 0)
      throw new Error(`idempotency keys conflicted but are not stored: ${lost.join(', ')}`);
    return held;
  }

  async forgetBefore(manager: EntityManager, cutoff: Date, limit: number): Promise<number> {
    const [, deleted] = await manager.query<[unknown[], number]>(
      `DELETE FROM ${this.table} WHERE key IN
         (SELECT key FROM ${this.table} WHERE accepted_at < $1 ORDER BY accepted_at LIMIT $2)`,
      [cutoff, limit],
    );
    return deleted;
  }
}
