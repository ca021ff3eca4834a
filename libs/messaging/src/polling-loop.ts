export interface PollingLoopOptions {
  readonly intervalMs: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Runs `tick` until stopped: again at once while it reports more work, otherwise after the interval (or
 * when nudged). Background workers (outbox relay, task worker, timers, pruning) share it.
 */
export class PollingLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A nudge that came while a tick ran: that tick may have looked before the work arrived. */
  private nudged = false;

  constructor(
    private readonly tick: () => Promise<boolean>,
    private readonly options: PollingLoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the tick in flight finish, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Cuts the current wait short, or has the tick in flight followed by another at once: there is work now. */
  nudge(): void {
    if (this.wake) this.wake();
    else this.nudged = true;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let more = false;
      this.nudged = false;
      try {
        more = await this.tick();
      } catch (error) {
        this.options.onError?.(error);
      }
      // Stopped while the tick ran: waiting out the interval would only hold up the shutdown.
      if (more || this.nudged || !this.running) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
