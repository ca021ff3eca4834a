import type {
  DataSource,
  EntitySubscriberInterface,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import type { MessagingSchema } from './messaging-tables';
import type { MessagingMetrics } from './messaging.metrics';
import { takeOutboxWrite } from './outbox';
import { PollingLoop } from './polling-loop';
import type { OutgoingRecord, RecordSender } from './record-sender';

export interface OutboxRelayOptions {
  readonly dataSource: DataSource;
  readonly tables: MessagingSchema;
  readonly sender: RecordSender;
  readonly batchSize?: number;
  /**
   * How often the table is polled. Rows written through an `OutboxWriter` on the same data source are
   * published when their transaction commits; the poll finds the others (another replica's, a writer's
   * on another data source) and retries after a failure.
   */
  readonly pollIntervalMs?: number;
  readonly metrics?: MessagingMetrics;
  readonly onError?: (error: unknown) => void;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Publishes outbox rows in id order, which per key is commit order (ADR 0006). Every replica may run a
 * relay on the same table: a transaction-scoped advisory lock per table elects one to publish each batch,
 * so batches never overlap or overtake each other on the broker. A row is marked published only after
 * the broker acknowledged it; a crash between the two republishes the batch (by whichever relay leads
 * next): delivery is at-least-once and consumers deduplicate by event id.
 *
 * No row waits for the poll when this process wrote it: the relay watches the data source's commits, and a
 * transaction that wrote its table wakes it as it commits (in process, no statement added, no NOTIFY, which
 * would serialise the commits of every writer).
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly leaderLockKey: string;
  private readonly loop: PollingLoop;
  private readonly commits: EntitySubscriberInterface;
  private lastGaugeAt = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.leaderLockKey = `keel.outbox-relay.${options.tables.schema}`;
    this.loop = new PollingLoop(() => this.tick(), {
      intervalMs: options.pollIntervalMs ?? 200,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    const outbox = options.tables.outbox;
    const ended = ({ queryRunner }: TransactionCommitEvent | TransactionRollbackEvent) =>
      // A savepoint ending leaves the transaction open; only its end counts.
      !queryRunner.isTransactionActive && takeOutboxWrite(queryRunner, outbox);
    this.commits = {
      afterTransactionCommit: (event) => {
        if (ended(event)) this.loop.nudge();
      },
      afterTransactionRollback: (event) => {
        ended(event);
      },
    };
  }

  start(): void {
    const { subscribers } = this.options.dataSource;
    if (!subscribers.includes(this.commits)) subscribers.push(this.commits);
    this.loop.start();
  }

  /** Finishes the batch in flight, then stops. */
  stop(): Promise<void> {
    const { subscribers } = this.options.dataSource;
    const index = subscribers.indexOf(this.commits);
    if (index >= 0) subscribers.splice(index, 1);
    return this.loop.stop();
  }

  /** Publish now rather than at the next poll (call after committing outbox rows). */
  nudge(): void {
    this.loop.nudge();
  }

  /** Publishes one batch; returns how many rows it published. */
  async publishBatch(): Promise<number> {
    const { dataSource, tables, sender } = this.options;
    const published = await dataSource.transaction(async (manager) => {
      // Only the relay holding the table's lock publishes (until its transaction ends); the others skip
      // this turn. The lock is taken in a statement of its own: the read below then starts its snapshot
      // after the previous leader committed, so it cannot see that leader's rows as still unpublished.
      const [{ elected }] = await manager.query<[{ elected: boolean }]>(
        'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS elected',
        [this.leaderLockKey],
      );
      if (!elected) return 0;
      const rows = await manager.query<OutboxRow[]>(
        `SELECT id, topic, message_key, value, headers FROM ${tables.outbox}
         WHERE published_at IS NULL ORDER BY id LIMIT $1`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      await sender.send(rows.map(toOutgoingRecord));
      await manager.query(`UPDATE ${tables.outbox} SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((row) => row.id),
      ]);
      return rows.length;
    });
    this.options.metrics?.outboxPublished.inc(published);
    return published;
  }

  async pendingCount(): Promise<number> {
    const [row] = await this.options.dataSource.query<Array<{ pending: number }>>(
      `SELECT count(*)::int AS pending FROM ${this.options.tables.outbox} WHERE published_at IS NULL`,
    );
    return row?.pending ?? 0;
  }

  private async tick(): Promise<boolean> {
    const published = await this.publishBatch();
    if (Date.now() - this.lastGaugeAt > 10_000) {
      this.lastGaugeAt = Date.now();
      this.options.metrics?.outboxPending.set(await this.pendingCount());
    }
    return published === this.batchSize;
  }
}

function toOutgoingRecord(row: OutboxRow): OutgoingRecord {
  return { topic: row.topic, key: row.message_key, value: row.value, headers: row.headers };
}
