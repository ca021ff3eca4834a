import { SessionLeadership } from '@keel/persistence';
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
   * published when their transaction commits; the poll finds the others (a writer's on another data
   * source), retries after a failure, and marks published what the last batch sent.
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
 * relay on the same table: a session-level advisory lock per table, held on a connection of the relay's
 * own, elects one to publish for as long as that connection lives, so batches never overlap or overtake
 * each other on the broker (ADR 0025). A batch costs the leader one statement: it marks the rows of the
 * batch before it published and reads the next. A row is marked only after the broker acknowledged it; a
 * crash in between republishes it (by whichever relay leads next): delivery is at-least-once and consumers
 * deduplicate by event id.
 *
 * No row waits for the poll when a replica with a relay wrote it: the relay watches the data source's
 * commits, and a transaction that wrote its table wakes it as it commits (in process, no statement added to
 * the writer's transaction). A relay that does not lead passes the wake-up on to the leader with a NOTIFY.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  /** Marks the rows of the batch before published and reads the next batch: a leader's one statement. */
  private readonly markAndRead: string;
  private readonly loop: PollingLoop;
  private readonly leadership: SessionLeadership;
  private readonly commits: EntitySubscriberInterface;
  /** Rows of the last batch, acknowledged by the broker: the leader's next statement marks them published. */
  private sentIds: string[] = [];
  /** Rows written here committed since the last tick: a follower tells the leader. */
  private committedSinceTick = false;
  private lastGaugeAt = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    // A statement and its CTE share one snapshot, in which the rows being marked still look unpublished.
    this.markAndRead = `WITH marked AS (
        UPDATE ${options.tables.outbox} SET published_at = now() WHERE id = ANY($1::bigint[]))
      SELECT id, topic, message_key, value, headers FROM ${options.tables.outbox}
      WHERE published_at IS NULL AND id <> ALL($1::bigint[]) ORDER BY id LIMIT $2`;
    this.loop = new PollingLoop(() => this.tick(), {
      intervalMs: options.pollIntervalMs ?? 200,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    this.leadership = new SessionLeadership({
      dataSource: options.dataSource,
      key: `keel.outbox-relay.${options.tables.schema}`,
      // Another replica committed rows: the follower that saw the commit passes it on.
      onNotify: () => this.loop.nudge(),
      onLost: (error) => {
        // What the last batch sent and did not mark, the next leader republishes.
        this.sentIds = [];
        options.onError?.(error);
      },
    });
    const outbox = options.tables.outbox;
    const ended = ({ queryRunner }: TransactionCommitEvent | TransactionRollbackEvent) =>
      // A savepoint ending leaves the transaction open; only its end counts.
      !queryRunner.isTransactionActive && takeOutboxWrite(queryRunner, outbox);
    this.commits = {
      afterTransactionCommit: (event) => {
        if (ended(event)) this.nudge();
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

  /** Finishes the batch in flight, marks what it sent published, then gives up the lead and its connection. */
  async stop(): Promise<void> {
    const { subscribers } = this.options.dataSource;
    const index = subscribers.indexOf(this.commits);
    if (index >= 0) subscribers.splice(index, 1);
    await this.loop.stop();
    try {
      // Marked before the unlock, so the next leader's first read finds these rows published.
      if (this.sentIds.length > 0 && this.leadership.isLeader) {
        await this.leadership.query(
          `UPDATE ${this.options.tables.outbox} SET published_at = now() WHERE id = ANY($1::bigint[])`,
          [this.sentIds],
        );
      }
    } finally {
      this.sentIds = [];
      await this.leadership.release();
    }
  }

  /**
   * Rows of this process were committed (its commits call it; so do rows written outside a transaction):
   * publish now rather than at the next poll, or, not leading, wake the leader.
   */
  nudge(): void {
    this.committedSinceTick = true;
    this.loop.nudge();
  }

  /**
   * Publishes one batch when this relay leads (marking the batch before it published in the same
   * statement); returns how many rows it sent.
   */
  async publishBatch(): Promise<number> {
    if (!(await this.lead())) return 0;
    let rows: OutboxRow[];
    try {
      rows = await this.leadership.query<OutboxRow[]>(this.markAndRead, [this.sentIds, this.batchSize]);
    } finally {
      // Marked now; or the statement failed, its session (and the lock) ended, and the next leader republishes.
      this.sentIds = [];
    }
    if (rows.length === 0) return 0;
    await this.options.sender.send(rows.map(toOutgoingRecord));
    this.sentIds = rows.map((row) => row.id);
    this.options.metrics?.outboxPublished.inc(rows.length);
    return rows.length;
  }

  /** Rows not marked published yet, the last batch sent included until the next statement marks it. */
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

  /** Whether this relay leads, trying to once it does not. */
  private async lead(): Promise<boolean> {
    const committed = this.committedSinceTick;
    this.committedSinceTick = false;
    // The lock is taken in a statement before the first read (ADR 0006): that read's snapshot then starts
    // after the previous leader's session ended, with every row it marked. A relay that is not elected and
    // has just committed rows wakes the leader instead.
    return this.leadership.acquire({ wakeLeader: committed });
  }
}

function toOutgoingRecord(row: OutboxRow): OutgoingRecord {
  return { topic: row.topic, key: row.message_key, value: row.value, headers: row.headers };
}
