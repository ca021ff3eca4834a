import { EventEmitter } from 'node:events';
import { SessionLeadership } from '@keel/persistence';
import type { DataSource } from 'typeorm';

/** A pooled connection as the leadership sees it: the pg client's events and the query runner's statements. */
class FakeConnection extends EventEmitter {
  constructor(private readonly election: { elected: boolean }) {
    super();
  }

  readonly statements: string[] = [];
  ended = false;
  isReleased = false;
  /** A statement that fails at once. */
  failing: RegExp | undefined;
  /** A statement that fails once `breakOff` is called, as one running when the connection broke. */
  hanging: { pattern: RegExp; breakOff?: () => void } | undefined;

  readonly runner = {
    connect: () => Promise.resolve(this),
    release: () => {
      this.isReleased = true;
      return Promise.resolve();
    },
    get isReleased(): boolean {
      return this.connection.isReleased;
    },
    connection: this,
    query: async (statement: string) => {
      this.statements.push(statement);
      if (this.failing?.test(statement)) throw new Error('statement failed');
      if (this.hanging?.pattern.test(statement)) {
        const hanging = this.hanging;
        await new Promise<void>((resolve) => (hanging.breakOff = resolve));
        throw new Error('connection terminated');
      }
      return statement.includes('pg_try_advisory_lock') ? [{ elected: this.election.elected }] : [];
    },
  };

  end(): Promise<void> {
    this.ended = true;
    this.emit('end');
    return Promise.resolve();
  }
}

function leadershipOn() {
  /** How the server answers the lock statement of any session. */
  const election = { elected: true };
  const connections: FakeConnection[] = [];
  const notified: number[] = [];
  const lost: unknown[] = [];
  const dataSource = {
    createQueryRunner: () => {
      const connection = new FakeConnection(election);
      connections.push(connection);
      return connection.runner;
    },
  } as unknown as DataSource;
  const leadership = new SessionLeadership({
    dataSource,
    key: 'keel.test',
    onNotify: () => notified.push(1),
    onLost: (error) => lost.push(error),
  });
  return { leadership, election, connections, notified, lost };
}

describe('SessionLeadership', () => {
  it('sets the keepalives once per session, then tries the lock and LISTENs only once elected', async () => {
    const { leadership, connections } = leadershipOn();
    await leadership.acquire();
    const [connection] = connections;

    expect(connection.statements).toEqual([
      'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 4',
      'SELECT pg_try_advisory_lock(hashtext($1)) AS elected',
      'LISTEN "keel.test"',
    ]);
    expect(await leadership.acquire()).toBe(true);
    expect(connection.statements).toHaveLength(3);
  });

  it('stays on its session while refused, and notifies the channel in the lock statement when asked to', async () => {
    const { leadership, election, connections } = leadershipOn();
    election.elected = false;
    expect(await leadership.acquire()).toBe(false);

    expect(await leadership.acquire({ wakeLeader: true })).toBe(false);

    expect(connections).toHaveLength(1);
    expect(connections[0].statements.slice(1)).toEqual([
      'SELECT pg_try_advisory_lock(hashtext($1)) AS elected',
      "SELECT pg_try_advisory_lock(hashtext($1)) AS elected, pg_notify($1, '')",
    ]);
    expect(leadership.isLeader).toBe(false);
  });

  it('passes on the notifications of its own channel only', async () => {
    const { leadership, connections, notified } = leadershipOn();
    await leadership.acquire();

    connections[0].emit('notification', { channel: 'keel.test', processId: 1 });
    connections[0].emit('notification', { channel: 'keel.other', processId: 1 });

    expect(notified).toEqual([1]);
  });

  it('reports a loss noticed between statements once, and closes the connection instead of pooling it', async () => {
    const { leadership, connections, lost } = leadershipOn();
    await leadership.acquire();
    const [connection] = connections;

    connection.emit('error', new Error('terminating connection due to administrator command'));
    await Promise.resolve();

    expect(lost).toEqual([new Error('terminating connection due to administrator command')]);
    expect([leadership.isLeader, connection.ended, connection.isReleased]).toEqual([false, true, true]);
  });

  it('forgets, without reporting a loss, a session its pool ended (its data source destroyed)', async () => {
    const { leadership, connections, lost } = leadershipOn();
    await leadership.acquire();

    connections[0].emit('end');

    expect([leadership.isLeader, connections[0].ended, lost]).toEqual([false, true, []]);
  });

  it('leaves a loss met by a statement to that statement’s error, and reports none for a follower', async () => {
    const { leadership, election, connections, lost } = leadershipOn();
    await leadership.acquire();
    connections[0].hanging = { pattern: /SELECT 1/ };
    const running = leadership.query('SELECT 1');
    await new Promise((resolve) => setImmediate(resolve));

    connections[0].emit('error', new Error('connection terminated'));
    connections[0].hanging.breakOff?.();

    await expect(running).rejects.toThrow('connection terminated');
    election.elected = false;
    expect(await leadership.acquire()).toBe(false);
    connections[1].emit('error', new Error('connection terminated'));
    expect(lost).toEqual([]);
  });

  it('closes the session when a statement fails, and runs no statement for one that does not lead', async () => {
    const { leadership, connections, lost } = leadershipOn();
    await leadership.acquire();
    connections[0].failing = /SELECT 1/;

    await expect(leadership.query('SELECT 1')).rejects.toThrow('statement failed');

    expect([leadership.isLeader, connections[0].ended, lost]).toEqual([false, true, []]);
    await expect(leadership.query('SELECT 2')).rejects.toThrow('not the leader of keel.test');
    expect(connections[0].statements).not.toContain('SELECT 2');
  });

  it('unlocks and closes at release, and only closes a session its data source released already', async () => {
    const { leadership, connections, lost } = leadershipOn();
    await leadership.acquire();
    await leadership.release();
    expect(connections[0].statements.at(-1)).toBe('SELECT pg_advisory_unlock(hashtext($1))');
    expect(connections[0].ended).toBe(true);

    await leadership.acquire();
    connections[1].isReleased = true;
    await leadership.release();

    expect(connections[1].statements).not.toContain('SELECT pg_advisory_unlock(hashtext($1))');
    expect([connections[1].ended, lost]).toEqual([true, []]);
  });
});
