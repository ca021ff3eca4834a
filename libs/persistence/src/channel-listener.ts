import type { Notification, PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';

export interface ChannelListenerOptions {
  readonly dataSource: DataSource;
  /** The channel, as `LISTEN` and `pg_notify` name it (at most 63 bytes). */
  readonly channel: string;
  /** A notification on the channel committed, by any session (this process's own included). */
  readonly onNotify: (payload: string) => void;
  /**
   * The listener is listening: at start, and again after its connection was lost. Notifications sent while it
   * was not are gone, so what they would have woken should look once.
   */
  readonly onListening: () => void;
  /** Opening the connection or listening failed, or the connection was lost; it listens again after `retryMs`. */
  readonly onError: (error: unknown) => void;
  readonly retryMs?: number;
}

interface ListeningSession {
  readonly runner: QueryRunner;
  readonly client: PoolClient;
}

/**
 * Hears a Postgres notification channel on a connection of its own, taken from the data source and kept
 * (the pool lends one connection fewer), so replicas can wake each other at a commit instead of polling.
 * A notification is a hint: one sent while the connection was being replaced is missed, which `onListening`
 * reports. Needs a session-pooled (or direct) connection: behind transaction pooling, `LISTEN` hears nothing.
 */
export class ChannelListener {
  private session: ListeningSession | undefined;
  private opening: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private running = false;
  /** The last connection's closing, which a `stop` racing a lost connection waits for too. */
  private closing: Promise<void> | undefined;
  private readonly retryMs: number;

  constructor(private readonly options: ChannelListenerOptions) {
    if (options.channel.length === 0 || Buffer.byteLength(options.channel) > 63)
      throw new Error(`channel '${options.channel}' must be 1 to 63 bytes`);
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Listens; should that fail, reports it and tries again after `retryMs`. */
  async start(): Promise<void> {
    this.running = true;
    await this.listen();
  }

  /**
   * Notifies the channel outside any transaction: on the listening session, which is idle, so a busy pool
   * does not hold the notification up; on the data source's pool while that session is being replaced.
   */
  async notify(payload: string): Promise<void> {
    const statement = 'SELECT pg_notify($1, $2)';
    const session = this.session;
    if (session && !this.opening) await session.runner.query(statement, [this.options.channel, payload]);
    else await this.options.dataSource.query(statement, [this.options.channel, payload]);
  }

  /** Stops listening and closes its connection. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.opening;
    await this.close();
  }

  private listen(): Promise<void> {
    this.opening ??= this.open()
      .catch(async (error: unknown) => {
        await this.close();
        this.report(error);
        this.listenAgainLater();
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  private async open(): Promise<void> {
    const runner = this.options.dataSource.createQueryRunner();
    let client: PoolClient;
    try {
      client = (await runner.connect()) as PoolClient;
    } catch (error) {
      await runner.release();
      throw error;
    }
    const session: ListeningSession = { runner, client };
    this.session = session;
    client.on('notification', (message: Notification) => {
      if (message.channel !== this.options.channel) return;
      // Called from the socket's data handler: a throw here would be uncaught.
      try {
        this.options.onNotify(message.payload ?? '');
      } catch (error) {
        this.report(error);
      }
    });
    // pg emits an error before an end it did not ask for; an end alone was asked for by the pool, as its data
    // source is destroyed: nothing to listen on any more. An error while opening is the open's to report.
    client.on('error', (error: Error) => {
      if (this.session !== session || this.opening) return;
      this.report(error);
      void this.close().then(() => this.listenAgainLater());
    });
    client.on('end', () => {
      if (this.session === session) void this.close();
    });
    // A connection cut off by a network partition must fail within seconds (5 s idle, then 4 probes 5 s
    // apart), not go deaf until the OS gives up after two hours. No-ops over a Unix socket.
    await runner.query(
      'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 4; ' +
        `LISTEN "${this.options.channel.replaceAll('"', '""')}"`,
    );
    if (!this.running) return;
    this.options.onListening();
  }

  private listenAgainLater(): void {
    if (!this.running || this.retry || !this.options.dataSource.isInitialized) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.running) void this.listen();
    }, this.retryMs);
    // Listening again must not keep a process alive that is otherwise done.
    this.retry.unref();
  }

  private report(error: unknown): void {
    try {
      this.options.onError(error);
    } catch {
      // Reporting failed; the listener still listens again.
    }
  }

  /** Closes the connection rather than returning it to the pool, so its `LISTEN` ends with it. */
  private close(): Promise<void> {
    const session = this.session;
    if (!session) return this.closing ?? Promise.resolve();
    this.session = undefined;
    this.closing = (async () => {
      const ended = session.client.end().catch(() => undefined);
      // pg-pool drops a client that is ending instead of lending it out again.
      await session.runner.release();
      await ended;
    })();
    return this.closing;
  }
}
