import { randomUUID } from 'node:crypto';
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
}

/**
 * Task workers of several replicas wake each other through a Postgres channel (`<schema>.tasks`) instead of
 * polling every few milliseconds for each other's attempts. A replica sends a wake-up only when it left
 * attempts queued that it has no slot for (or it is draining): otherwise it claims them itself. The payload
 * names the sender, which ignores its own. A missed wake-up costs latency, never an attempt: the workers
 * still claim on their own once a second.
 */
export class ReplicaWakeups {
  private readonly replica = randomUUID();
  private readonly listener: ChannelListener;
  private readonly minIntervalMs: number;
  private lastSentAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: ReplicaWakeupsOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 25;
    this.listener = new ChannelListener({
      dataSource: options.dataSource,
      channel: `${options.schema}.tasks`,
      onNotify: (sender) => {
        if (sender !== this.replica) options.onWake();
      },
      onListening: options.onWake,
      onError: options.onError,
    });
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  /** This replica queued attempts it cannot take now. */
  wakeOthers(): void {
    const now = Date.now();
    if (now - this.lastSentAtMs < this.minIntervalMs) return;
    this.lastSentAtMs = now;
    this.listener.notify(this.replica).catch(this.options.onError);
  }
}
