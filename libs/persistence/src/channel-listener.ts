import type { Notification } from 'pg';
import type { DataSource } from 'typeorm';
import { type DedicatedConnection, dedicatedConnection, fastKeepalives } from './dedicated-connection';

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

/**
 * Hears a Postgres notification channel on a connection of its own, taken from the data source and kept
 * (the pool lends one connection fewer), so replicas can wake each other at a commit instead of polling.
 * A notification is a hint: one sent while the connection was being replaced is missed, which `onListening`
 * reports. Needs a session-pooled (or direct) connection: behind transaction pooling, `LISTEN` hears nothing.
 */
export class ChannelListener {
  private session: DedicatedConnection | undefined;
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
   * Notifies the channel outside any transaction, on the data source's pool: never on the listening session,
   * whose socket may be the one that is dead.
   */
  async notify(payload: string): Promise<void> {
    await this.options.dataSource.query('SELECT pg_notify($1, $2)', [this.options.channel, payload]);
  }

  /**
   * Replaces the listening connection: for an owner that found it deaf (a notification it sent itself never
   * came back), which a client whose peer vanished in a partition cannot tell by itself.
   */
  async listenAfresh(): Promise<void> {
    if (!this.running) return;
    await this.opening;
    await this.close();
    await this.listen();
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
    const session = await dedicatedConnection(this.options.dataSource);
    const { runner, client } = session;
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
    // The server drops the session of a client cut off by a partition within seconds (its lock, its LISTEN);
    // the client side is `listenAfresh`'s.
    await runner.query(`${fastKeepalives}; LISTEN "${this.options.channel.replaceAll('"', '""')}"`);
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

  /** Closes the connection, so its `LISTEN` ends with it. */
  private close(): Promise<void> {
    const session = this.session;
    if (!session) return this.closing ?? Promise.resolve();
    this.session = undefined;
    this.closing = session.close();
    return this.closing;
  }
}
