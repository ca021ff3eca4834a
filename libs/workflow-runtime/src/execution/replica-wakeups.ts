import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ChannelListener } from '@keel/persistence';
import type { DataSource } from 'typeorm';

export interface ReplicaWakeupsOptions {
  readonly dataSource: DataSource;
  /** The workflow schema: replicas of one deployment share it, and with it the channel. */
  readonly schema: string;
  /** Another replica queued attempts it cannot take, or this one listens (again) and may have missed some. */
  readonly onWake: () => void;
  readonly onError: (error: unknown) => void;
  /** Fewest milliseconds between two wake-ups this replica sends: a saturated burst would send one per commit. */
  readonly minIntervalMs?: number;
  /** How often a replica says it is there; one not heard from for 2.5 times that is taken to be gone. */
  readonly presenceMs?: number;
}

type Message = 'here' | 'wake' | 'gone';

/**
 * Task workers of several replicas wake each other through a Postgres channel (`<schema>.tasks`) instead of
 * polling every few milliseconds for each other's attempts. A replica sends a wake-up only when it left
 * attempts queued that it has no slot for (or it is draining) — otherwise it claims them itself — and only
 * while it knows of another replica: each says `here` when it starts listening, every `presenceMs`, and to a
 * replica it has not heard of, and `gone` when it stops, so a replica alone (a burst saturating it) sends
 * nothing. Messages are `<kind>:<replica>`; a replica ignores its own. A missed wake-up costs latency, never
 * an attempt: the workers still claim on their own once a second.
 */
export class ReplicaWakeups {
  private readonly replica = randomUUID();
  private readonly listener: ChannelListener;
  private readonly minIntervalMs: number;
  private readonly presenceMs: number;
  /** Other replicas, by when they were last heard from. */
  private readonly peers = new Map<string, number>();
  private lastWakeAtMs = Number.NEGATIVE_INFINITY;
  private presence: NodeJS.Timeout | undefined;
  private stopped = true;
  /** When this replica last heard its own message: its listener is deaf when that stops. */
  private selfHeardAtMs = 0;
  /** A wake-up due once `minIntervalMs` since the last one is up. */
  private trailing: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReplicaWakeupsOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 25;
    this.presenceMs = options.presenceMs ?? 5_000;
    this.listener = new ChannelListener({
      dataSource: options.dataSource,
      channel: `${options.schema}.tasks`,
      onNotify: (payload) => this.heard(payload),
      onListening: () => {
        this.send('here');
        options.onWake();
      },
      onError: options.onError,
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.selfHeardAtMs = Date.now();
    await this.listener.start();
    this.presence = setInterval(() => this.keepPresence(), this.presenceMs);
    // Saying it is there must not keep a process alive that is otherwise done.
    this.presence.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.presence);
    this.presence = undefined;
    await this.listener.stop();
    // A data source already destroyed (its module shut down first) leaves the others to forget this one.
    if (!this.options.dataSource.isInitialized) return;
    // A wake-up still due is sent now: it may be the last for what a draining replica left queued.
    if (this.trailing) {
      clearTimeout(this.trailing);
      this.trailing = undefined;
      await this.notify('wake');
    }
    await this.notify('gone');
  }

  /**
   * This replica queued attempts it cannot take now. Within `minIntervalMs` of the last wake-up the next one
   * is sent when the interval is up (the attempts queued since would otherwise wait for a poll).
   */
  wakeOthers(): void {
    if (this.stopped || this.trailing) return;
    const now = performance.now();
    if (!this.knowsPeers(Date.now())) return;
    const waitMs = this.lastWakeAtMs + this.minIntervalMs - now;
    if (waitMs <= 0) {
      this.lastWakeAtMs = now;
      this.send('wake');
      return;
    }
    this.trailing = setTimeout(() => {
      this.trailing = undefined;
      this.lastWakeAtMs = performance.now();
      this.send('wake');
    }, waitMs);
    this.trailing.unref();
  }

  private heard(payload: string): void {
    const separator = payload.indexOf(':');
    const kind = payload.slice(0, separator) as Message;
    const sender = payload.slice(separator + 1);
    if (separator < 0) return;
    if (sender === this.replica) {
      this.selfHeardAtMs = Date.now();
      return;
    }
    if (kind === 'gone') {
      this.peers.delete(sender);
      return;
    }
    const known = this.peers.has(sender);
    this.peers.set(sender, Date.now());
    // A replica that just started learns of this one now rather than at its next `here`.
    if (!known) this.send('here');
    if (kind === 'wake') this.options.onWake();
  }

  private knowsPeers(now: number): boolean {
    for (const [peer, heardAtMs] of this.peers) {
      if (now - heardAtMs <= 2.5 * this.presenceMs) return true;
      this.peers.delete(peer);
    }
    return false;
  }

  /**
   * Says it is there, forgets peers not heard from, and listens afresh when its own `here` did not come back
   * (a listening socket whose server went away in a partition hears nothing and is never told).
   */
  private keepPresence(): void {
    const now = Date.now();
    this.knowsPeers(now);
    if (now - this.selfHeardAtMs > 2.5 * this.presenceMs) {
      this.selfHeardAtMs = now;
      this.listener.listenAfresh().catch(this.options.onError);
    }
    this.send('here');
  }

  private send(kind: Message): void {
    if (!this.stopped) void this.notify(kind);
  }

  private notify(kind: Message): Promise<void> {
    return this.listener.notify(`${kind}:${this.replica}`).catch(this.options.onError);
  }
}
