import { join } from 'node:path';
import { deadLetterTopicName, topics } from '@keel/contracts';
import { deadLetterHeaders, EventPublisher, KafkaRecordSender } from '@keel/messaging';
import {
  dropSchema,
  effectsTableMigration,
  isolatedTopic,
  readTopic,
  schemaDataSource,
  sequencedCaseEvent,
  startTsProcess,
  testDatabaseUrl,
  testKafka,
  testKafkaBrokers,
  type TestProcess,
  uniqueName,
} from '@keel/testing';
import type { DataSource } from 'typeorm';

const processes = join(__dirname, '../../testing/src/processes');

/**
 * Records whose handler takes the whole process down: no error reaches the consumer, so only a count kept
 * outside the process can tell the record that keeps killing its consumers. Members run as real processes.
 */
describe('poison records that take the process down', () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const running: TestProcess[] = [];
  let schema: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    schema = uniqueName('poison');
    dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((child) => child.kill('SIGKILL')));
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  afterAll(() => sender.disconnect());

  const appliedSeqs = async () =>
    (
      await dataSource.query<Array<{ seq: number }>>(`SELECT seq FROM "${schema}".effects ORDER BY applied`)
    ).map((row) => row.seq);

  it('dead-letters a record whose handler exits and one whose handler never returns after 2 deliveries each; the records around them are applied once', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    await new EventPublisher(sender).publish(
      topic,
      Array.from({ length: 8 }, (_, i) => sequencedCaseEvent('case-p', i + 1)),
    );
    const group = uniqueName('group');
    const settled = async () => (await appliedSeqs()).length === 6;

    // Each member is restarted when its handler took it down — exited, or frozen and then killed, as an
    // orchestrator's liveness probe would — until the stream is through (or it clearly never will be).
    let starts = 0;
    while (!(await settled()) && starts < 8) {
      starts += 1;
      const member = startTsProcess(join(processes, 'effects-consumer.process.ts'), {
        TEST_SCHEMA: schema,
        TEST_TOPIC: topic.name,
        TEST_GROUP: group,
        TEST_MEMBER: `member-${starts}`,
        TEST_DATABASE_URL: testDatabaseUrl,
        KAFKA_BROKERS: testKafkaBrokers.join(','),
        TEST_EXIT_ON_EVENT: 'case-p-3',
        TEST_FREEZE_ON_EVENT: 'case-p-6',
        TEST_MAX_DELIVERIES: '2',
        TEST_SESSION_TIMEOUT_MS: '2000',
      });
      running.push(member);
      for (;;) {
        if (member.child.exitCode !== null) break;
        if (member.output().includes('freezing on')) {
          await member.kill('SIGKILL');
          break;
        }
        if (await settled()) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    expect(await appliedSeqs()).toEqual([1, 2, 4, 5, 7, 8]);
    const deadLetters = await readTopic(kafka, deadLetterTopicName(topic.name), 2);
    const header = (index: number, name: string) => deadLetters[index]?.headers?.[name]?.toString();
    expect(deadLetters.map((_, i) => header(i, 'ce_id'))).toEqual(['case-p-3', 'case-p-6']);
    expect(deadLetters.map((_, i) => header(i, deadLetterHeaders.reason))).toEqual([
      'delivery-limit',
      'delivery-limit',
    ]);
    expect(deadLetters.map((_, i) => header(i, deadLetterHeaders.attempts))).toEqual(['2', '2']);
    expect(deadLetters.map((_, i) => header(i, deadLetterHeaders.originOffset))).toEqual(['2', '5']);
    // Two deliveries of each poison record, then one member to get past both.
    expect(starts).toBe(4);
  });
});
