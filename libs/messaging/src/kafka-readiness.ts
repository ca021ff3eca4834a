import type { ReadinessCheck } from '@keel/observability';
import type { KafkaAdminPort, KafkaPort } from './kafka-port';

interface Connection {
  readonly admin: KafkaAdminPort;
  readonly connected: Promise<KafkaAdminPort>;
}

/**
 * Ready when the cluster answers a metadata request within `timeoutMs`. One admin client is connected on
 * the first check and reused. kafkajs retries a connection for tens of seconds, so an attempt outlives a
 * probe: later probes wait on the same attempt, and once it fails they report its error. A failed
 * connection or request is dropped, so the next check starts afresh.
 */
export function kafkaReadinessCheck(kafka: KafkaPort, timeoutMs = 2000): ReadinessCheck {
  let connection: Connection | undefined;
  let lastFailure: string | undefined;

  const drop = async (failed: Connection, error: unknown): Promise<void> => {
    lastFailure = error instanceof Error ? error.message : String(error);
    if (connection === failed) connection = undefined;
    // Best effort: the connection is discarded either way, and this runs where nobody awaits it.
    await failed.admin.disconnect().catch(() => undefined);
  };

  const connect = (): Promise<KafkaAdminPort> => {
    if (connection) return connection.connected;
    // Requests fail at once; retrying is the next probe's job.
    const admin = kafka.admin({ retry: { retries: 0 } });
    const attempt: Connection = { admin, connected: admin.connect().then(() => admin) };
    attempt.connected.then(
      () => (lastFailure = undefined),
      (error: unknown) => drop(attempt, error),
    );
    connection = attempt;
    return attempt.connected;
  };

  const describeCluster = async (): Promise<void> => {
    const current = connect();
    const admin = await current;
    try {
      const { brokers } = await admin.describeCluster();
      if (brokers.length === 0) throw new Error('the cluster reports no brokers');
    } catch (error) {
      if (connection?.admin === admin) await drop(connection, error);
      throw error;
    }
  };

  return {
    name: 'kafka',
    check: async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const detail = lastFailure ? `; last attempt failed: ${lastFailure}` : '';
          reject(new Error(`no answer from the brokers within ${timeoutMs} ms${detail}`));
        }, timeoutMs);
      });
      try {
        await Promise.race([describeCluster(), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => {
      const current = connection;
      connection = undefined;
      // Disconnecting does not wait for a connection attempt still retrying.
      await current?.admin.disconnect();
    },
  };
}
