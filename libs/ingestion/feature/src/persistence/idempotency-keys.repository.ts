import type { CloudEvent, TopicDefinition } from '@keel/contracts';
import { guardIn, outboxCte, type OutboxWriter } from '@keel/messaging';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager } from 'typeorm';

/** An idempotency key with what was accepted under it. */
export interface AcceptedKey {
  readonly key: string;
  readonly eventId: string;
  readonly topic: string;
  readonly subject: string;
}

/** An event accepted under a key, for the outbox. */
export interface KeyedEvent {
  readonly topic: TopicDefinition;
  readonly event: CloudEvent;
}

/** A key to claim, and the events that go to the outbox if it is claimed now. */
export interface KeyClaim {
  readonly accepted: AcceptedKey;
  readonly events: readonly KeyedEvent[];
}

/**
 * The port: claims keys and writes the events of the keys claimed to the outbox, in one statement, so a key
 * and its outbox rows commit together — in the caller's transaction, or on their own.
 */
export interface IdempotencyKeys {
  /**
   * Claims every new key of `claims` (the first occurrence, when one repeats, whose events are the ones kept);
   * answers, by key, what was accepted first under the keys held before. A key absent from the answer was
   * claimed now, and its events are on the outbox, in the order of `claims`.
   */
  claim(manager: EntityManager, claims: readonly KeyClaim[]): Promise<ReadonlyMap<string, AcceptedKey>>;
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

  constructor(
    schema: string,
    private readonly outbox: Pick<OutboxWriter, 'records' | 'insert' | 'written'>,
  ) {
    assertSchemaName(schema);
    this.table = `"${schema}"."idempotency_keys"`;
  }

  async claim(manager: EntityManager, claims: readonly KeyClaim[]): Promise<Map<string, AcceptedKey>> {
    const held = new Map<string, AcceptedKey>();
    if (claims.length === 0) return held;
    const accepted = claims.map((claim) => claim.accepted);
    const column = (field: keyof AcceptedKey) => accepted.map((item) => item[field]);
    // The first occurrence of a repeated key is the one claimed, so only its events may go out.
    const firsts = new Map<string, KeyClaim>();
    for (const claim of claims) if (!firsts.has(claim.accepted.key)) firsts.set(claim.accepted.key, claim);
    const outgoing = [...firsts.values()].flatMap(({ accepted: { key }, events }) =>
      events.map((keyed) => ({ key, record: this.outbox.records(keyed.topic, [keyed.event])[0] })),
    );
    const insert = this.outbox.insert(
      outgoing.map(({ record }) => record),
      outgoing.map(({ key }) => key),
    );
    // Rows go in in array order, so of a key repeated in the batch the first occurrence is the one stored;
    // the outbox rows of the keys it stored go in with them, in the same statement (no transaction needed).
    const outboxed = outboxCte(insert, 5, guardIn('SELECT key FROM claimed'));
    const inserted = await manager.query<Array<{ key: string }>>(
      `WITH claimed AS (
         INSERT INTO ${this.table} (key, event_id, topic, subject)
         SELECT key, e, t, s FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
           WITH ORDINALITY AS a(key, e, t, s, n)
         ORDER BY n
         ON CONFLICT (key) DO NOTHING RETURNING key)${outboxed}
       SELECT key FROM claimed`,
      [column('key'), column('eventId'), column('topic'), column('subject'), ...insert.parameters],
    );
    const claimed = new Set(inserted.map((row) => row.key));
    if (insert.rows > 0 && outgoing.some(({ key }) => claimed.has(key))) this.outbox.written(manager);
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
