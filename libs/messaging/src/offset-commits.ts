/** Commits a partition's resolved offsets (kafkajs: `commitOffsetsIfNecessary(uncommittedOffsets())`). */
export type PartitionCommit = () => Promise<void>;

/**
 * Spaces out a consumer's offset commits: at most one per `intervalMs`, plus the ones a caller forces.
 *
 * Committing after every partition batch cost one OffsetCommit round trip per batch: at a paced load a fetch
 * brings one small batch per partition, and a consumer of two six-partition topics sent about five commits
 * per fetch (1,919 commits for 401 fetches in 20 s of the pipeline bench), each also a write of the broker's
 * offsets log on the same two cores. An offset left uncommitted for a while costs nothing but a longer
 * replay after a crash or a rebalance, and a replayed record is a duplicate the processed-event ids skip.
 *
 * A batch that ends within the interval owes its commit; a timer pays what is owed when the interval is up,
 * so a partition that goes quiet is still committed. Commits run one at a time, in the order asked.
 */
export class OffsetCommits {
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private readonly owed = new Map<string, PartitionCommit>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly intervalMs: number,
    /** Where a commit the timer paid failed (a rebalance took the partition): its records come again. */
    private readonly onLateFailure: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * After a partition's batch: commits now when the interval is up or `force` is set (stopping, a bound on
   * the replay reached), else owes it to the timer. A failure of a commit made here is the caller's.
   */
  async afterBatch(partitionKey: string, commit: PartitionCommit, force = false): Promise<void> {
    if (!force && this.now() - this.lastCommitAt < this.intervalMs) {
      this.owed.set(partitionKey, commit);
      this.arm();
      return;
    }
    this.owed.delete(partitionKey);
    await this.run(commit);
  }

  /** Pays every owed commit now (before leaving the group). Failures go to `onLateFailure`. */
  async settle(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const owed = [...this.owed.values()];
    this.owed.clear();
    for (const commit of owed) await this.run(commit).catch(this.onLateFailure);
    // A commit the timer started may still be on its way: the group must not be left before it lands.
    await this.chain;
  }

  private arm(): void {
    if (this.timer) return;
    const dueIn = Math.max(0, this.lastCommitAt + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.settle();
    }, dueIn);
    this.timer.unref();
  }

  private run(commit: PartitionCommit): Promise<void> {
    const committed = this.chain.then(async () => {
      this.lastCommitAt = this.now();
      await commit();
    });
    this.chain = committed.catch(() => undefined);
    return committed;
  }
}
