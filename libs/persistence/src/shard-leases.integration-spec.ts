import { SessionLeadership, ShardLeases } from '@keel/persistence';
import { replicaDataSource, uniqueName } from '@keel/testing';
import type { DataSource } from 'typeorm';

/**
 * Shards spread over contenders as Postgres keeps them: one contender per shard at a time, each near its fair
 * share of the members it can count, a joiner or a leaver balanced in, a contender of the one-leader kind on
 * the same key kept out (and keeping members out).
 */
describe('shard leases', () => {
  const shards = 12;
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  let key: string;
  let clock: number;
  beforeEach(() => {
    key = uniqueName('shards');
    clock = 0;
  });

  /** A replica's data source: its own pool, as another process would have. */
  async function dataSource(): Promise<DataSource> {
    const source = await replicaDataSource();
    cleanups.push(async () => source.isInitialized && (await source.destroy()));
    return source;
  }

  async function contender(): Promise<{ leases: ShardLeases; lost: unknown[] }> {
    const lost: unknown[] = [];
    const leases = new ShardLeases({
      dataSource: await dataSource(),
      key,
      shards,
      balanceEveryMs: 1_000,
      now: () => clock,
      onNotify: () => undefined,
      onLost: (error) => lost.push(error),
    });
    cleanups.push(() => leases.release());
    return { leases, lost };
  }

  /** Each contender takes in turn, a balance due at each (the clock moves past the interval before it). */
  async function round(contenders: readonly ShardLeases[]) {
    for (const leases of contenders) {
      clock += 1_000;
      await leases.take(new Set());
    }
  }

  /**
   * Every shard worked by exactly one contender, and locked on the server by that one only: a lock taken twice
   * by one session (advisory locks are re-entrant) would outlive its unlock, held by nobody's `working`.
   */
  async function expectPartition(contenders: readonly ShardLeases[]): Promise<void> {
    const worked = contenders.flatMap((leases) => leases.working);
    expect([...worked].sort((a, b) => a - b)).toEqual([...Array(shards).keys()]);
    const observer = await dataSource();
    const locked = await observer.query<Array<{ shard: number }>>(
      `SELECT objid::int AS shard FROM pg_locks
       WHERE locktype = 'advisory' AND objsubid = 2 AND granted
         AND classid = (hashtext($1)::bigint & 4294967295)::oid
       ORDER BY 1`,
      [key],
    );
    expect(locked.map(({ shard }) => shard)).toEqual([...Array(shards).keys()]);
  }

  it('gives one contender every shard, and shares them out as others join and leave', async () => {
    const [a, b, c] = await Promise.all([contender(), contender(), contender()]);

    expect(await a.leases.take(new Set())).toHaveLength(shards);

    await round([b.leases, a.leases, b.leases]);
    expect(a.leases.working).toHaveLength(6);
    expect(b.leases.working).toHaveLength(6);
    await expectPartition([a.leases, b.leases]);

    await round([c.leases, a.leases, b.leases, c.leases]);
    expect([a, b, c].map(({ leases }) => leases.working.length)).toEqual([4, 4, 4]);
    await expectPartition([a.leases, b.leases, c.leases]);

    await c.leases.release();
    await round([a.leases, b.leases]);
    expect([a, b].map(({ leases }) => leases.working.length)).toEqual([6, 6]);
    await expectPartition([a.leases, b.leases]);

    // Rejoining after the others took more than their earlier share: what they give back is unlocked.
    await round([c.leases, a.leases, b.leases, c.leases, a.leases, b.leases]);
    expect([a, b, c].map(({ leases }) => leases.working.length)).toEqual([4, 4, 4]);
    await expectPartition([a.leases, b.leases, c.leases]);
  });

  it('gives back a shard above the share only once nothing of it is in flight', async () => {
    const [a, b] = await Promise.all([contender(), contender()]);
    await a.leases.take(new Set());
    await b.leases.take(new Set());
    const busy = new Set(a.leases.working);

    clock += 1_000;
    await a.leases.take(busy);
    // Six are given back: none yet, all busy; no new work is taken from them.
    expect(a.leases.working).toHaveLength(6);
    await b.leases.take(new Set());
    expect(b.leases.working).toEqual([]);

    await a.leases.take(new Set());
    clock += 1_000;
    await b.leases.take(new Set());
    expect(b.leases.working).toHaveLength(6);
    await expectPartition([a.leases, b.leases]);
  });

  it("takes a lost member's shards at the next balance", async () => {
    const [a, b] = await Promise.all([contender(), contender()]);
    await round([a.leases, b.leases, a.leases, b.leases]);
    expect(b.leases.working).toHaveLength(6);

    const observer = await dataSource();
    const [{ pid }] = await observer.query<[{ pid: number }]>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND objid = $1::oid
         AND classid = (hashtext($2)::bigint & 4294967295)::oid AND granted`,
      [b.leases.working[0], key],
    );
    await observer.query('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((resolve) => setTimeout(resolve, 200));

    await round([a.leases]);
    expect(a.leases.working).toHaveLength(shards);
    expect(b.lost).toHaveLength(1);
    expect(b.leases.working).toEqual([]);
  });

  it('keeps members and a one-leader contender on the same key out of each other', async () => {
    /** A contender of the version before shards: one leader per key. */
    const oneLeader = async () => {
      const leadership = new SessionLeadership({
        dataSource: await dataSource(),
        key,
        onNotify: () => undefined,
        onLost: () => undefined,
      });
      cleanups.push(() => leadership.release());
      return leadership;
    };
    const leader = await oneLeader();
    const member = await contender();

    expect(await leader.acquire()).toBe(true);
    expect(await member.leases.take(new Set())).toEqual([]);

    await leader.release();
    expect(await member.leases.take(new Set())).toHaveLength(shards);
    expect(await (await oneLeader()).acquire()).toBe(false);
  });
});
