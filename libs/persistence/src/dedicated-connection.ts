import type { PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';

/** A connection taken from a data source's pool and kept, with the runner that lent it. */
export interface DedicatedConnection {
  readonly runner: QueryRunner;
  readonly client: PoolClient;
  /**
   * Closes the connection rather than giving it back to the pool, so the session ends with it (its lock, its
   * `LISTEN`, its settings); once, however often it is called.
   */
  readonly close: () => Promise<void>;
}

/**
 * Takes a connection of its own from the data source, for a session that outlives any one statement (a
 * session lock, a `LISTEN`); its owner closes it rather than giving it back, so the session ends with it.
 */
export async function dedicatedConnection(dataSource: DataSource): Promise<DedicatedConnection> {
  const runner = dataSource.createQueryRunner();
  let client: PoolClient;
  try {
    client = (await runner.connect()) as PoolClient;
  } catch (error) {
    await runner.release();
    throw error;
  }
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      const ended = client.end().catch(() => undefined);
      // pg-pool drops a client that is ending instead of lending it out again.
      await runner.release();
      await ended;
    })());
  return { runner, client, close };
}

/**
 * A session cut off by a network partition must fail within seconds (5 s idle, then 4 probes 5 s apart), not
 * after the OS's two hours. No-ops over a Unix socket.
 */
export const fastKeepalives =
  'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 4';
