import { Kafka, logLevel } from 'kafkajs';
import { isTopicOfRun, testKafkaBrokers } from './test-environment';

/**
 * Jest global teardown of the integration tier: deletes the topics this run created (and only those, so a
 * run beside it on the same broker is untouched); a long-lived development broker would otherwise pile up
 * thousands of test topics and their partitions.
 */
export default async function globalTeardown(): Promise<void> {
  const runId = process.env.KEEL_TEST_RUN;
  if (!runId) return;
  const admin = new Kafka({
    clientId: 'test-teardown',
    brokers: testKafkaBrokers,
    logLevel: logLevel.ERROR,
  }).admin();
  await admin.connect();
  try {
    const leftovers = (await admin.listTopics()).filter((name) => isTopicOfRun(name, runId));
    for (let start = 0; start < leftovers.length; start += 100) {
      await admin.deleteTopics({ topics: leftovers.slice(start, start + 100) });
    }
    console.log(`\ndeleted ${leftovers.length} test topics`);
  } finally {
    await admin.disconnect();
  }
}
