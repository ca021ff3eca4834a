import type { Notification, PoolClient } from 'pg';
import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
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
 * A connection of the relay's own: its session holds the table's advisory lock while this relay leads, and
 * LISTENs for the commits of the other replicas.
 */
interface RelaySession {
  readonly runner: QueryRunner;
  readonly client: PoolClient;
  leading: boolean;
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
  private readonly leaderLockKey: string;
  /** Marks the rows of the batch before published and reads the next batch: a leader's one statement. */
  private readonly markAndRead: string;
  private readonly loop: PollingLoop;
  private readonly commits: EntitySubscriberInterface;
  private session: RelaySession | undefined;
  /** Rows of the last batch, acknowledged by the broker: the leader's next statement marks them published. */
  private sentIds: string[] = [];
  /** Rows written here committed since the last tick: a follower tells the leader. */
  private committedSinceTick = false;
  private lastGaugeAt = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.leaderLockKey = `keel.outbox-relay.${options.tables.schema}`;
    // A statement and its CTE share one snapshot, in which the rows being marked still look unpublished.
    this.markAndRead = `WITH marked AS (
        UPDATE ${options.tables.outbox} SET published_at = now() WHERE id = ANY($1::bigint[]))
      SELECT id, topic, message_key, value, headers FROM ${options.tables.outbox}
      WHERE published_at IS NULL AND id <> ALL($1::bigint[]) ORDER BY id LIMIT $2`;
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
        if (!ended(event)) return;
        this.committedSinceTick = true;
        this.loop.nudge();
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
    const session = this.session;
    if (!session) return;
    try {
      // Unlocked rather than left to the session's end, which the server finishes after the client let go.
      // A data source destroyed before the relay stopped has closed the session (and dropped the lock) itself.
      if (session.leading && !session.runner.isReleased) {
        await session.runner.query(
          `WITH marked AS (
             UPDATE ${this.options.tables.outbox} SET published_at = now() WHERE id = ANY($1::bigint[]))
           SELECT pg_advisory_unlock(hashtext($2))`,
          [this.sentIds, this.leaderLockKey],
        );
      }
    } finally {
      await this.endSession(session);
    }
  }

  /** Publish now rather than at the next poll (call after committing outbox rows). */
  nudge(): void {
    this.loop.nudge();
  }

  /**
   * Publishes one batch when this relay leads (marking the batch before it published in the same
   * statement); returns how many rows it sent.
   */
  async publishBatch(): Promise<number> {
    const session = await this.leaderSession();
    if (!session) return 0;
    const rows = await this.onSession(
      session,
      () => session.runner.query(this.markAndRead, [this.sentIds, this.batchSize]) as Promise<OutboxRow[]>,
    );
    this.sentIds = [];
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

  /** The session while this relay leads, once it was elected; undefined while another relay leads. */
  private async leaderSession(): Promise<RelaySession | undefined> {
    const committed = this.committedSinceTick;
    this.committedSinceTick = false;
    if (this.session?.leading) return this.session;
    const session = this.session ?? (await this.openSession());
    // The lock is taken in a statement before the first read (ADR 0006): that read's snapshot then starts
    // after the previous leader's session ended, with every row it marked. A relay that is not elected and
    // has just committed rows wakes the leader instead.
    const [{ elected }] = await this.onSession(
      session,
      () =>
        session.runner.query(
          committed
            ? "SELECT pg_try_advisory_lock(hashtext($1)) AS elected, pg_notify($1, '')"
            : 'SELECT pg_try_advisory_lock(hashtext($1)) AS elected',
          [this.leaderLockKey],
        ) as Promise<[{ elected: boolean }]>,
    );
    if (!elected) return undefined;
    await this.onSession(session, () => session.runner.query(`LISTEN "${this.leaderLockKey}"`));
    session.leading = true;
    return session;
  }

  private async openSession(): Promise<RelaySession> {
    const runner = this.options.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      const session: RelaySession = { runner, client, leading: false };
      client.on('notification', (message: Notification) => {
        if (message.channel === this.leaderLockKey) this.loop.nudge();
      });
      // The lock lives as long as the session: a leader cut off by a network partition must lose it within
      // seconds (5 s idle, then 4 probes 5 s apart), not after the OS's two hours. No-ops over a Unix socket.
      await runner.query(
        'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 4',
      );
      this.session = session;
      return session;
    } catch (error) {
      await runner.release();
      throw error;
    }
  }

  /** Runs a statement of the session; when it fails, the session ends (and its lock with it). */
  private async onSession<T>(session: RelaySession, statement: () => Promise<T>): Promise<T> {
    try {
      return await statement();
    } catch (error) {
      await this.endSession(session);
      throw error;
    }
  }

  /**
   * Ends the session rather than returning its connection to the pool, so the lock, the LISTEN and the
   * keepalive settings end with it; what the last batch sent and did not mark, the next leader republishes.
   */
  private async endSession(session: RelaySession): Promise<void> {
    if (this.session === session) this.session = undefined;
    this.sentIds = [];
    const ended = session.client.end().catch(() => undefined);
    // pg-pool drops a client that is ending instead of lending it out again.
    await session.runner.release();
    await ended;
  }
}

function toOutgoingRecord(row: OutboxRow): OutgoingRecord {
  return { topic: row.topic, key: row.message_key, value: row.value, headers: row.headers };
}
