import type { CloudEvent, TopicData, TopicDefinition } from '@keel/contracts';
import type { EntityManager, QueryRunner } from 'typeorm';
import type { MessagingSchema } from './messaging-tables';
import { outgoingRecord } from './outgoing-record';
import type { OutgoingRecord } from './record-sender';

/**
 * Transactions that wrote outbox rows and have not ended yet, with the outbox tables they wrote: a relay on
 * the same data source publishes them as soon as the transaction commits (`OutboxRelay` watches commits).
 */
const outboxesWrittenBy = new WeakMap<QueryRunner, Set<string>>();

/** Whether the transaction of `queryRunner` wrote to `outbox`; forgets it (the transaction has ended). */
export function takeOutboxWrite(queryRunner: QueryRunner, outbox: string): boolean {
  return outboxesWrittenBy.get(queryRunner)?.delete(outbox) ?? false;
}

/**
 * Encoded outbox rows and the insert that stores them, for a writer that makes the insert part of a statement
 * of its own (a data-modifying CTE): under load every round trip waits for a core, so a transaction that
 * writes its state in one statement can write its events in the same one. The insert's parameters come last
 * in that statement (their count grows with the rows).
 */
export interface OutboxInsert {
  readonly rows: number;
  /**
   * The INSERT of the rows (no trailing semicolon), its parameters numbered from `$first`; with `condition` (an
   * SQL boolean of the caller's statement, which may name a row's guard as `outgoing.guard`) it inserts only
   * the rows where that holds.
   */
  statement(first: number, condition?: string): string;
  readonly parameters: readonly unknown[];
}

/**
 * The insert as a data-modifying CTE (`outboxed`) to end a caller's `WITH` list, its leading comma included;
 * nothing when there are no rows. Its parameters, numbered from `$first`, go last in the statement.
 */
export function outboxCte(insert: OutboxInsert | undefined, first: number, condition?: string): string {
  return insert && insert.rows > 0 ? `, outboxed AS (${insert.statement(first, condition)} RETURNING 1)` : '';
}

/**
 * The condition that inserts only the guarded rows whose guard `stored` (a SELECT of one text column, e.g. the
 * RETURNING of a sibling CTE) yields. A filter on the rows in their order — an array, not a join the planner
 * could turn around — so the outbox ids follow the records' order.
 */
export function guardIn(stored: string): string {
  return `outgoing.guard = ANY (ARRAY(${stored}))`;
}

/**
 * Writes events to the outbox inside the caller's transaction, so the state change and the events it
 * announces commit together; the relay publishes them afterwards.
 */
export class OutboxWriter {
  /** Told of rows written outside a transaction: they are committed already, and no commit event comes. */
  private readonly outsideTransactionListeners = new Set<() => void>();

  constructor(private readonly tables: MessagingSchema) {}

  /** Calls `listener` whenever rows were written outside a transaction; returns the unsubscribe. */
  whenWrittenOutsideTransaction(listener: () => void): () => void {
    this.outsideTransactionListeners.add(listener);
    return () => this.outsideTransactionListeners.delete(listener);
  }

  async enqueue<T extends TopicDefinition>(
    manager: EntityManager,
    topic: T,
    events: ReadonlyArray<CloudEvent<TopicData<T>>>,
  ): Promise<void> {
    const insert = this.insert(this.records(topic, events));
    if (insert.rows === 0) return;
    await manager.query(insert.statement(1), [...insert.parameters]);
    this.written(manager);
  }

  /** The events encoded as the outbox stores them, for `insert`. */
  records<T extends TopicDefinition>(
    topic: T,
    events: ReadonlyArray<CloudEvent<TopicData<T>>>,
  ): OutgoingRecord[] {
    return events.map((event) => outgoingRecord(topic, event));
  }

  /**
   * The insert of `records`, in their order (ids grow in it), four parameters a row: a value travels as bytes
   * (a binary parameter), not as text to escape and parse. Run it inside the transaction, then call `written`.
   * With `guards` (a text per record, a fifth parameter a row), the statement's condition can tell the rows
   * apart by `outgoing.guard`: the rows of a state write that may not happen (a key claimed only if new).
   */
  insert(records: readonly OutgoingRecord[], guards?: readonly string[]): OutboxInsert {
    const outbox = this.tables.outbox;
    const width = guards ? 5 : 4;
    return {
      rows: records.length,
      statement: (first, condition) => {
        const rows = records.map((_, index) => {
          const at = first + index * width;
          return `($${at}, $${at + 1}, $${at + 2}::bytea, $${at + 3}::jsonb${guards ? `, $${at + 4}::text` : ''})`;
        });
        return `INSERT INTO ${outbox} (topic, message_key, value, headers)
         SELECT topic, message_key, value, headers
         FROM (VALUES ${rows.join(', ')}) AS outgoing (topic, message_key, value, headers${guards ? ', guard' : ''})
         ${condition ? `WHERE ${condition}` : ''}`;
      },
      parameters: records.flatMap(({ topic, key, value, headers }, index) => [
        topic,
        key,
        value,
        JSON.stringify(headers),
        ...(guards ? [guards[index]] : []),
      ]),
    };
  }

  /**
   * Rows were inserted through `manager`: in a transaction, the relay on the same data source publishes them
   * as it commits; outside one (the statement committed as it returned), the listeners hear of it now.
   */
  written(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) {
      const written = outboxesWrittenBy.get(runner) ?? new Set<string>();
      written.add(this.tables.outbox);
      outboxesWrittenBy.set(runner, written);
    } else {
      for (const listener of this.outsideTransactionListeners) listener();
    }
  }
}
