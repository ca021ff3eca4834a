import type { ReadinessCheck } from '@keel/observability';
import type { Admin, Kafka } from 'kafkajs';

/**
 * Ready when the cluster answers a metadata request. One admin client is connected on the first check and
 * reused; a failure drops it, so the next check reconnects from scratch. No retries: the health module's
 * deadline bounds the check, and a probe must answer quickly rather than wait out a broker outage.
 */
export function kafkaReadinessCheck(kafka: Kafka): ReadinessCheck {
  let connected: Promise<Admin> | undefined;

  const admin = (): Promise<Admin> => {
    connected ??= (async () => {
      const client = kafka.admin({ retry: { retries: 0 } });
      try {
        await client.connect();
        return client;
      } catch (error) {
        await client.disconnect();
        throw error;
      }
    })();
    return connected;
  };

  const close = async (): Promise<void> => {
    const closing = connected;
    connected = undefined;
    // A connection that failed has already been released.
    await closing?.then((client) => client.disconnect()).catch(() => undefined);
  };

  return {
    name: 'kafka',
    check: async () => {
      try {
        const { brokers } = await (await admin()).describeCluster();
        if (brokers.length === 0) throw new Error('the cluster reports no brokers');
      } catch (error) {
        await close();
        throw error;
      }
    },
    close,
  };
}
