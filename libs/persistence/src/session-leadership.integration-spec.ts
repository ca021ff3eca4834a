import { SessionLeadership } from '@keel/persistence';
import { replicaDataSource, testDatabaseUrl, uniqueName, waitFor } from '@keel/testing';
import type { DataSource } from 'typeorm';

/**
 * The lead as Postgres keeps it (ADR 0025): one session holds the key's advisory lock, the others are
 * refused until it releases it or its backend goes, and the leader hears NOTIFYs on the key's channel.
 */
describe('session leadership', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  let key: string;
  let observer: DataSource;
  beforeEach(async () => {
    key = uniqueName('leadership');
    observer = await dataSourceOn(testDatabaseUrl);
  });

  /** A replica's data source: its own pool, as another process would have. */
  async function dataSourceOn(url: string): Promise<DataSource> {
    const dataSource = await replicaDataSource(url);
    cleanups.push(async () => dataSource.isInitialized && (await dataSource.destroy()));
    return dataSource;
  }

  async function contender(dataSource?: DataSource) {
    const notified: number[] = [];
    const lost: unknown[] = [];
    const leadership = new SessionLeadership({
      dataSource: dataSource ?? (await dataSourceOn(testDatabaseUrl)),
      key,
      onNotify: () => notified.push(Date.now()),
      onLost: (error) => lost.push(error),
    });
    cleanups.push(() => leadership.release());
    return { leadership, notified, lost };
  }

  /** The backends holding the key's lock. */
  const holders = async () =>
    (
      await observer.query<Array<{ pid: number }>>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND ((classid::bigint << 32) | objid::bigint) = hashtext($1)::bigint`,
        [key],
      )
    ).map((row) => row.pid);

  it('lets one contender lead and refuses the others until it releases the lock', async () => {
    const first = await contender();
    const second = await contender();

    expect(await first.leadership.acquire()).toBe(true);
    expect(await second.leadership.acquire()).toBe(false);
    expect(await first.leadership.acquire()).toBe(true);
    expect([first.leadership.isLeader, second.leadership.isLeader]).toEqual([true, false]);
    const [holder] = await holders();

    await first.leadership.release();
    expect(await holders()).toEqual([]);
    // Closed, not returned to the pool: nothing of the session outlives the lead.
    await waitFor(
      async () =>
        (await observer.query<unknown[]>('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [holder]))
          .length === 0,
      { what: 'the leader’s backend gone' },
    );
    expect(await second.leadership.acquire()).toBe(true);
    expect(first.lost).toEqual([]);
  });

  it('hands the lead over when the leader’s backend is terminated, and tells the old leader', async () => {
    const first = await contender();
    const second = await contender();
    await first.leadership.acquire();
    const [holder] = await holders();

    await observer.query('SELECT pg_terminate_backend($1)', [holder]);

    await waitFor(() => first.lost.length === 1, { what: 'the old leader told' });
    expect(first.leadership.isLeader).toBe(false);
    expect(await second.leadership.acquire()).toBe(true);
    // Back on a new session, as a follower.
    expect(await first.leadership.acquire()).toBe(false);
  });

  it('closes the session when a statement of the leader fails, the lock with it, and throws the error instead of reporting a loss', async () => {
    const first = await contender();
    const second = await contender();
    await first.leadership.acquire();

    await expect(first.leadership.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);

    expect(first.leadership.isLeader).toBe(false);
    await expect(first.leadership.query('SELECT 1')).rejects.toThrow(/not the leader/);
    expect(await second.leadership.acquire()).toBe(true);
    expect(first.lost).toEqual([]);
  });

  it('runs the leader’s statements on the session holding the lock', async () => {
    const first = await contender();
    await first.leadership.acquire();

    const [{ pid }] = await first.leadership.query<[{ pid: number }]>('SELECT pg_backend_pid() AS pid');

    expect(await holders()).toEqual([pid]);
  });

  it('wakes the leader with a NOTIFY on its channel, from a refused contender or any other session', async () => {
    const leader = await contender();
    const follower = await contender();
    await leader.leadership.acquire();

    expect(await follower.leadership.acquire({ wakeLeader: true })).toBe(false);
    await waitFor(() => leader.notified.length === 1, { what: 'the follower’s wake-up' });

    await observer.query("SELECT pg_notify($1, '')", [key]);
    await waitFor(() => leader.notified.length === 2, { what: 'a writer’s NOTIFY' });
    await observer.query("SELECT pg_notify($1, '')", [`${key}_other`]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([leader.notified.length, follower.notified.length]).toEqual([2, 0]);
  });

  it('reports no loss and runs no statement at release when its data source was destroyed first (the lock went with the pool)', async () => {
    const dataSource = await dataSourceOn(testDatabaseUrl);
    const leader = await contender(dataSource);
    await leader.leadership.acquire();

    await dataSource.destroy();

    expect(leader.leadership.isLeader).toBe(false);
    await expect(leader.leadership.release()).resolves.toBeUndefined();
    expect(leader.lost).toEqual([]);
    await waitFor(async () => (await holders()).length === 0, { what: 'the lock dropped' });
  });

  it('sets TCP keepalives on its session, so a partitioned leader loses the lock within seconds', async () => {
    // Over loopback TCP: the settings are no-ops over the Unix socket the tests use otherwise.
    const overTcp = new URL(testDatabaseUrl);
    overTcp.hostname = '127.0.0.1';
    const leader = await contender(await dataSourceOn(overTcp.toString()));
    await leader.leadership.acquire();

    const settings = await leader.leadership.query<Array<Record<string, string>>>(
      `SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS interval,
         current_setting('tcp_keepalives_count') AS count`,
    );

    expect(settings).toEqual([{ idle: '5', interval: '5', count: '4' }]);
  });
});
