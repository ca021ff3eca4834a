import type { Notification } from 'pg';
import type { DataSource } from 'typeorm';
import { type DedicatedConnection, dedicatedConnection, fastKeepalives } from './dedicated-connection';

export interface SessionLeadershipOptions {
  readonly dataSource: DataSource;
  /** Names the advisory lock (`hashtext(key)`) and the channel the leader LISTENs on. */
  readonly key: string;
  /**
   * Takes the key's lock shared: every contender holds it at once (a membership that `ShardLeases` counts),
   * and none while a session holds it exclusively. Exclusive by default: one leader.
   */
  readonly shared?: boolean;
  /** A NOTIFY on the key's channel reached the leader. */
  readonly onNotify: () => void;
  /**
   * The leader's session ended while none of its statements ran (a statement that meets the end throws
   * instead): the lock went with it, and another contender may take it at its next try.
   */
  readonly onLost: (error: unknown) => void;
}

/** A contender's session: its own connection, closed by a failed statement, its loss, or release(). */
interface LeadershipSession extends DedicatedConnection {
  leading: boolean;
  /** Statements of ours on the session not yet answered: their callers learn of a loss from them. */
  running: number;
}

/**
 * One contender at a time leads, across replicas: the one whose session holds a session-level advisory lock
 * on a connection of its own, taken from the data source at the first try and kept. The lock lives as long
 * as that session, so it goes with the process or the connection, and the next contender to try takes it;
 * the leader also LISTENs on the key's channel, for work committed elsewhere. Needs a session-pooled (or
 * direct) connection: behind transaction pooling, the lock and the statements run on different sessions.
 */
export class SessionLeadership {
  private session: LeadershipSession | undefined;
  private readonly lockFunction: string;

  constructor(private readonly options: SessionLeadershipOptions) {
    this.lockFunction = options.shared ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock';
  }

  get isLeader(): boolean {
    const session = this.session;
    // A data source destroyed while this led has closed the session (and dropped the lock) itself.
    return session?.leading === true && !session.runner.isReleased;
  }

  /**
   * Tries to lead; true when this contender holds the lock (now or already: then no statement runs).
   * `wakeLeader` notifies the channel in the same statement, for a contender that has work for the leader.
   */
  async acquire({ wakeLeader = false }: { readonly wakeLeader?: boolean } = {}): Promise<boolean> {
    if (this.isLeader) return true;
    const session = this.session ?? (await this.open());
    const [{ elected }] = await this.run<[{ elected: boolean }]>(
      session,
      wakeLeader
        ? `SELECT ${this.lockFunction}(hashtext($1)) AS elected, pg_notify($1, '')`
        : `SELECT ${this.lockFunction}(hashtext($1)) AS elected`,
      [this.options.key],
    );
    if (!elected) return false;
    await this.run(session, `LISTEN "${this.options.key}"`);
    session.leading = true;
    return true;
  }

  /**
   * Runs a statement on the session holding the lock, for what only the leader may do. When it fails, the
   * session is closed (the lock with it) and the error thrown.
   */
  async query<T>(statement: string, parameters?: unknown[]): Promise<T> {
    const session = this.session;
    if (!session || !this.isLeader) throw new Error(`not the leader of ${this.options.key}`);
    return this.run<T>(session, statement, parameters);
  }

  /** Unlocks and closes the session. */
  async release(): Promise<void> {
    const session = this.session;
    if (!session) return;
    try {
      // Unlocked rather than left to the session's end, which the server finishes after the client let go.
      if (this.isLeader) {
        const unlock = this.options.shared ? 'pg_advisory_unlock_shared' : 'pg_advisory_unlock';
        await session.runner.query(`SELECT ${unlock}(hashtext($1))`, [this.options.key]);
      }
    } finally {
      await this.close(session);
    }
  }

  private async open(): Promise<LeadershipSession> {
    const session: LeadershipSession = {
      ...(await dedicatedConnection(this.options.dataSource)),
      leading: false,
      running: 0,
    };
    const { client } = session;
    client.on('notification', (message: Notification) => {
      if (message.channel === this.options.key) this.options.onNotify();
    });
    client.on('error', (error: Error) => {
      if (this.session !== session) return;
      const unnoticed = session.leading && session.running === 0;
      void this.close(session);
      if (unnoticed) this.options.onLost(error);
    });
    // pg emits an error before an end it did not ask for; an end alone was asked for by the pool, as its data
    // source is destroyed (its owner going with it): nothing to report.
    client.on('end', () => {
      if (this.session === session) void this.close(session);
    });
    this.session = session;
    // A leader cut off by a network partition must lose the lock within seconds, not hours.
    await this.run(session, fastKeepalives);
    return session;
  }

  private async run<T>(session: LeadershipSession, statement: string, parameters?: unknown[]): Promise<T> {
    session.running += 1;
    try {
      return (await session.runner.query(statement, parameters)) as T;
    } catch (error) {
      await this.close(session);
      throw error;
    } finally {
      session.running -= 1;
    }
  }

  /** Closes the session's connection, so the lock, the LISTEN and the keepalive settings end with it. */
  private close(session: LeadershipSession): Promise<void> {
    if (this.session === session) this.session = undefined;
    session.leading = false;
    return session.close();
  }
}
