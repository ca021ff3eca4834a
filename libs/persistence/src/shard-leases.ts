import type { DataSource } from 'typeorm';
import { SessionLeadership } from './session-leadership';

export interface ShardLeasesOptions {
  readonly dataSource: DataSource;
  /**
   * Names the membership lock (`hashtext(key)`, taken shared), the shard locks (`(hashtext(key), shard)`) and
   * the channel every member LISTENs on. A contender holding `key`'s lock exclusively (a `SessionLeadership`
   * on the same key: a replica of a version before shards) keeps every member out, and members keep it out.
   */
  readonly key: string;
  /** How many shards the work is cut into: the same in every contender, or two could hold one shard's work. */
  readonly shards: number;
  /** How often the members are counted and shards taken or given back (a statement each time). */
  readonly balanceEveryMs: number;
  readonly now: () => number;
  /** A NOTIFY on the key's channel reached this member. */
  readonly onNotify: () => void;
  /** The member's session ended while none of its statements ran: its shards went with it. */
  readonly onLost: (error: unknown) => void;
}

/**
 * Spreads the shards of one body of work over the contenders of every replica: each holds a session-level
 * advisory lock per shard it works, on one connection of its own, so a shard is worked by one contender at a
 * time and its locks go with the process or the connection. The contenders also hold the key's lock shared,
 * which makes them countable (`pg_locks`): each keeps about its fair share, `ceil(shards / members)`, taking
 * free shards up to it and giving back the ones above it once they have nothing in flight. A member that joins
 * or leaves is balanced in within two `balanceEveryMs`.
 */
export class ShardLeases {
  private readonly membership: SessionLeadership;
  private readonly held = new Set<number>();
  /** Held above the fair share: no new work is taken from them, and they are unlocked once idle. */
  private readonly leaving = new Set<number>();
  private balancedAt = Number.NEGATIVE_INFINITY;
  /** Where this contender starts looking for free shards, so that joiners do not all race for the same ones. */
  private readonly offset: number;

  constructor(private readonly options: ShardLeasesOptions) {
    if (!Number.isInteger(options.shards) || options.shards < 1) {
      throw new RangeError(`shards must be a positive integer, not ${options.shards}`);
    }
    this.membership = new SessionLeadership({
      dataSource: options.dataSource,
      key: options.key,
      shared: true,
      onNotify: options.onNotify,
      onLost: options.onLost,
    });
    this.offset = Math.floor(Math.random() * options.shards);
  }

  /** The shards this contender works now (held, not being given back). */
  get working(): readonly number[] {
    if (!this.membership.isLeader) return [];
    return [...this.held].filter((shard) => !this.leaving.has(shard)).sort((a, b) => a - b);
  }

  /**
   * Balances when due and answers the shards to take work from. `busy`: shards with work in flight here, which
   * are not given back until it has finished.
   */
  async take(busy: ReadonlySet<number>): Promise<readonly number[]> {
    if (!this.membership.isLeader) {
      // The session and every shard lock on it are gone (or were never there).
      this.held.clear();
      this.leaving.clear();
      if (!(await this.membership.acquire())) return [];
      this.balancedAt = Number.NEGATIVE_INFINITY;
    }
    if (this.options.now() - this.balancedAt >= this.options.balanceEveryMs) await this.balance(busy);
    const idle = [...this.leaving].filter((shard) => !busy.has(shard));
    if (idle.length > 0) await this.unlock(idle);
    return this.working;
  }

  /** Unlocks every shard and leaves (closing the session). */
  async release(): Promise<void> {
    try {
      // Unlocked before leaving, so that the others never count one member fewer while its shards stay locked.
      if (this.membership.isLeader && this.held.size > 0) await this.unlock([...this.held]);
    } finally {
      this.held.clear();
      this.leaving.clear();
      await this.membership.release();
    }
  }

  private async balance(busy: ReadonlySet<number>): Promise<void> {
    this.balancedAt = this.options.now();
    const { key, shards } = this.options;
    const staying = () => [...this.held].filter((shard) => !this.leaving.has(shard));
    // Only shards not held are offered: a session's advisory locks are re-entrant, so locking a held one again
    // would need two unlocks. They are filtered here, not in SQL, where the planner may order a filter's
    // conditions by cost and take the lock first. From this contender's offset on, so that joiners do not all
    // race for the same ones.
    const free = Array.from({ length: shards }, (_, i) => (i + this.offset) % shards).filter(
      (shard) => !this.held.has(shard),
    );
    // The LIMIT stops the scan once the share is reached, so no lock is taken beyond it (no ORDER BY, which
    // would try every row first).
    const [row] = await this.membership.query<[{ members: number; taken: number[] }]>(
      `WITH members AS (
         SELECT count(*)::int AS n FROM pg_locks
         WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted AND objsubid = 1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid = ((hashtext($1)::bigint >> 32) & 4294967295)::oid
           AND objid = (hashtext($1)::bigint & 4294967295)::oid),
       taken AS (
         SELECT shard FROM unnest($3::int[]) AS shard
         WHERE pg_try_advisory_lock(hashtext($1), shard)
         LIMIT (SELECT greatest(0, ceil($2::numeric / greatest(n, 1))::int - $4::int) FROM members))
       SELECT (SELECT n FROM members) AS members, coalesce((SELECT array_agg(shard) FROM taken), '{}') AS taken`,
      [key, shards, free, staying().length],
    );
    for (const shard of row.taken) this.held.add(shard);
    const share = Math.ceil(shards / Math.max(row.members, 1));
    // A member left since these were marked: they stay after all.
    for (const shard of this.leaving) if (staying().length < share) this.leaving.delete(shard);
    // Idle shards are given back first, so that busy ones finish here.
    const kept = staying().sort((a, b) => Number(busy.has(a)) - Number(busy.has(b)));
    for (const shard of kept.slice(0, Math.max(0, kept.length - share))) this.leaving.add(shard);
  }

  private async unlock(shards: readonly number[]): Promise<void> {
    await this.membership.query('SELECT pg_advisory_unlock(hashtext($1), s) FROM unnest($2::int[]) AS s', [
      this.options.key,
      shards,
    ]);
    for (const shard of shards) {
      this.held.delete(shard);
      this.leaving.delete(shard);
    }
  }
}
