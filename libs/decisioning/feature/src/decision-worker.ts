import { PollingLoop } from '@keel/messaging';
import { type DecisionTrigger } from '@keel/decisioning-domain';
import { SpanKind, inTraceOf } from '@keel/tracing';
import { type DecisionOutcome } from './decide.usecase';
import { type PendingTrigger } from './persistence/decision-queue.repository';

/** The queue as the worker reads it. */
export interface DecisionQueuePort {
  pending(
    limit: number,
    excluding: readonly string[],
    historyLimit: number,
    shards: readonly number[],
  ): Promise<PendingTrigger[]>;
  markFailed(decisionId: string, error: string): Promise<void>;
}

/** The queue's shards this replica decides (`ShardLeases`): one replica per shard at a time. */
export interface DecisionQueueShardsPort {
  /** Balances when due; answers the shards to read. `busy`: shards with triggers in flight here. */
  take(busy: ReadonlySet<number>): Promise<readonly number[]>;
  release(): Promise<void>;
  readonly working: readonly number[];
}

export interface DecisionWorkerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DecisionWorkerOptions {
  readonly queue: DecisionQueuePort;
  readonly shards: DecisionQueueShardsPort;
  readonly decide: (pending: PendingTrigger) => Promise<DecisionOutcome>;
  /** Stores and publishes outcomes atomically (one statement); returns those published now (not before). */
  readonly publish: (outcomes: readonly DecisionOutcome[]) => Promise<readonly DecisionOutcome[]>;
  /** The case history prefetched with each trigger: the agent policy's limit. */
  readonly historyLimit: () => number;
  /** Triggers being decided or published at once (model calls run concurrently, across cases). */
  readonly maxInFlight: number;
  /** How often the queue is read without a notification, and how often the shards are balanced. */
  readonly pollMs: number;
  /** Attempts at deciding one trigger before it is marked failed and its case moves on. */
  readonly maxAttempts: number;
  readonly now: () => number;
  readonly onPublished?: (outcomes: readonly DecisionOutcome[]) => void;
  readonly logger?: DecisionWorkerLogger;
}

/**
 * Drains the shards of the decision queue this replica holds (a case's triggers are all in one shard): reads
 * the oldest triggers (with their case history, one round trip), decides them outside any transaction —
 * concurrently across cases, in queue order within a case — and publishes whatever is decided in one
 * statement per group (a group commit: while one publishes, the next group gathers). A trigger whose decision
 * fails is retried with backoff, its case held behind it; after `maxAttempts` it is marked failed and stays in
 * the table with the reason.
 */
export class DecisionWorker {
  private readonly loop: PollingLoop;
  /** Triggers taken and not yet published, with their shards. */
  private readonly inFlight = new Map<string, number>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Attempts so far at triggers that failed, with their shards. */
  private readonly failures = new Map<string, { attempts: number; shard: number }>();
  /** Cases held behind a trigger waiting for its retry, until the time given, with their shards. */
  private readonly held = new Map<string, { until: number; shard: number }>();
  private ready: DecisionOutcome[] = [];
  private flushing: Promise<void> | undefined;
  private stopping = false;
  private nudged = false;
  /** A read found no room (every slot in flight): what it left is read once a publish frees slots. */
  private full = false;

  constructor(private readonly options: DecisionWorkerOptions) {
    this.loop = new PollingLoop(() => this.tick(), {
      intervalMs: options.pollMs,
      onError: (error) => options.logger?.warn('decision queue unreadable; retrying', { error: text(error) }),
    });
  }

  start(): void {
    this.stopping = false;
    this.loop.start();
  }

  /** A trigger was queued: read the queue now rather than at the next poll. */
  nudge(): void {
    // The loop only hears a nudge while it waits; one during a read must make it read again at once.
    this.nudged = true;
    this.loop.nudge();
  }

  /** Stops reading, lets what is being decided finish and publish, and gives its shards back. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
    await Promise.allSettled([...this.chains.values()]);
    await this.flushing;
    await this.options.shards.release();
  }

  /** The shards this replica decides now: it hears its own consumer's commits of them, no NOTIFY needed. */
  get decidedHere(): readonly number[] {
    return this.options.shards.working;
  }

  /** Triggers taken and not yet published. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private async tick(): Promise<boolean> {
    this.nudged = false;
    const busy = new Set(this.inFlight.values());
    const shards = await this.options.shards.take(busy);
    this.forgetShardsGone(shards, busy);
    if (shards.length === 0) return false;
    const room = this.options.maxInFlight - this.inFlight.size;
    if (room <= 0) {
      this.full = true;
      return this.nudged;
    }
    const batch = await this.options.queue.pending(
      room,
      [...this.inFlight.keys()],
      this.options.historyLimit(),
      shards,
    );
    const now = this.options.now();
    let taken = 0;
    for (const pending of batch) {
      const key = caseKey(pending.trigger);
      const heldUntil = this.held.get(key)?.until;
      if (heldUntil !== undefined && heldUntil > now) continue;
      this.held.delete(key);
      this.inFlight.set(pending.decisionId, pending.shard);
      taken += 1;
      const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.decideOne(pending, key));
      this.chains.set(key, next);
      void next.finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    }
    // More may be waiting behind a full batch (a batch of held cases only is read again at the next poll), or
    // a trigger was queued while this read ran.
    return (batch.length === room && taken > 0) || this.nudged;
  }

  private async decideOne(pending: PendingTrigger, key: string): Promise<void> {
    const { decisionId } = pending;
    // An earlier trigger of the case failed in this round: this one waits behind it.
    if (this.held.has(key)) {
      this.inFlight.delete(decisionId);
      return;
    }
    try {
      const outcome = await inTraceOf(
        pending.envelope.traceparent,
        'decisioning decide',
        { 'keel.case': pending.trigger.caseId, 'keel.decision': decisionId },
        () => this.options.decide(pending),
        SpanKind.INTERNAL,
      );
      this.failures.delete(decisionId);
      this.ready.push(outcome);
      this.scheduleFlush();
    } catch (error) {
      try {
        await this.failed(pending, key, error);
      } finally {
        // In flight until marked failed: its shard is not given back while the mark is being written.
        this.inFlight.delete(decisionId);
      }
    }
  }

  /**
   * Retry counts and holds of shards no longer decided here (nor in flight) are dropped: the replica that took
   * the shard starts the attempts over.
   */
  private forgetShardsGone(working: readonly number[], busy: ReadonlySet<number>): void {
    const kept = (shard: number) => busy.has(shard) || working.includes(shard);
    for (const [decisionId, { shard }] of this.failures) if (!kept(shard)) this.failures.delete(decisionId);
    for (const [key, { shard }] of this.held) if (!kept(shard)) this.held.delete(key);
  }

  private async failed(pending: PendingTrigger, key: string, error: unknown): Promise<void> {
    const { decisionId, shard } = pending;
    const attempts = (this.failures.get(decisionId)?.attempts ?? 0) + 1;
    const fields = { decisionId, caseId: pending.trigger.caseId, attempts, error: text(error) };
    if (attempts < this.options.maxAttempts) {
      const retryAt = this.options.now() + Math.min(5_000, 100 * 2 ** (attempts - 1));
      this.failures.set(decisionId, { attempts, shard });
      this.held.set(key, { until: retryAt, shard });
      this.options.logger?.warn('deciding failed; retrying', fields);
      return;
    }
    try {
      await this.options.queue.markFailed(decisionId, text(error));
      this.failures.delete(decisionId);
      this.options.logger?.error('deciding failed for good; trigger kept as failed', fields);
    } catch (markError) {
      // Not marked: it stays queued and is tried again, its case held meanwhile.
      this.held.set(key, { until: this.options.now() + 5_000, shard });
      this.options.logger?.warn('could not mark a failed trigger', { ...fields, markError: text(markError) });
    }
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = this.flushAll().finally(() => {
      this.flushing = undefined;
      if (this.ready.length > 0) this.scheduleFlush();
    });
  }

  private async flushAll(): Promise<void> {
    // Decisions the offline planner makes in the same turn join the first group instead of waiting for the next.
    await new Promise((resolve) => setImmediate(resolve));
    for (let failures = 0; this.ready.length > 0;) {
      const group = this.ready;
      this.ready = [];
      try {
        const published = await this.options.publish(group);
        for (const outcome of group) this.inFlight.delete(outcome.decisionId);
        failures = 0;
        this.options.onPublished?.(published);
        // Otherwise nothing waits for the slots: every trigger queued since woke the worker on its commit.
        if (this.full) {
          this.full = false;
          this.nudge();
        }
      } catch (error) {
        this.ready = [...group, ...this.ready];
        if (this.stopping) {
          // Still queued: the replica taking their shards decides them again and publishes once.
          for (const outcome of this.ready) this.inFlight.delete(outcome.decisionId);
          this.ready = [];
          return;
        }
        this.options.logger?.warn('publishing decisions failed; retrying', { error: text(error) });
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** failures++)));
      }
    }
  }
}

function caseKey(trigger: DecisionTrigger): string {
  return `${trigger.tenant}\u0000${trigger.caseId}`;
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
