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
  /** `claimed` when the key is new; otherwise what was accepted under it first. */
  claim(
    manager: EntityManager,
    accepted: AcceptedKey,
  ): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly first: AcceptedKey }>;
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

  async claim(
    manager: EntityManager,
    accepted: AcceptedKey,
  ): Promise<{ claimed: true } | { claimed: false; first: AcceptedKey }> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO ${this.table} (key, event_id, topic, subject) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO NOTHING RETURNING key`,
      [accepted.key, accepted.eventId, accepted.topic, accepted.subject],
    );
    if (inserted.length > 0) return { claimed: true };
    const [row] = await manager.query<KeyRow[]>(
      `SELECT key, event_id, topic, subject FROM ${this.table} WHERE key = $1`,
      [accepted.key],
    );
    if (!row) throw new Error(`idempotency key '${accepted.key}' conflicted but is not stored`);
    return {
      claimed: false,
      first: { key: row.key, eventId: row.event_id, topic: row.topic, subject: row.subject },
    };
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
