import type { Admin, Kafka } from 'kafkajs';

/**
 * Readiness of the Kafka connection: the cluster answers a metadata request. Shaped as the
 * observability lib's `ReadinessCheck` (name + check that throws when not ready).
 */
export function kafkaReadinessCheck(kafka: Kafka): { name: string; check(): Promise<void> } {
  let admin: Admin | undefined;
  return {
    name: 'kafka',
    async check() {
      if (!admin) {
        admin = kafka.admin({ retry: { retries: 0 } });
        await admin.connect();
      }
      await admin.describeCluster();
    },
  };
}
