import { type CaseEvent, type CloudEvent, deadLetterTopicName, topics } from '@keel/contracts';
import { type ErrorCatalog, KeelError } from '@keel/errors';
import {
  deadLetterHeaders,
  EventConsumer,
  type EventContext,
  EventPublisher,
  KafkaRecordSender,
  MessagingSchema,
  subscribe,
} from '@keel/messaging';
import {
  dropSchema,
  effectsTableMigration,
  isolatedTopic,
  readTopic,
  schemaDataSource,
  sequencedCaseEvent,
  testKafka,
  uniqueName,
  waitFor,
} from '@keel/testing';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';

type LedgerErrorCode = 'unknown-account' | 'ledger-busy' | 'rate-not-published';

const ledgerErrors = {
  httpStatus: { 'unknown-account': 404, 'ledger-busy': 503, 'rate-not-published': 404 },
  consumerHandling: {
    'unknown-account': 'dead-letter',
    'ledger-busy': 'retry',
    'rate-not-published': 'wait',
  },
} as const satisfies ErrorCatalog<LedgerErrorCode>;

class LedgerError extends KeelError<LedgerErrorCode> {
  constructor(code: LedgerErrorCode) {
    super(code, `ledger says ${code}`, ledgerErrors);
  }
}

describe("EventConsumer handles a KeelError as its catalog's consumerHandling says", () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let schema: string;
  let dataSource: DataSource;
  let consumer: EventConsumer | undefined;

  beforeEach(async () => {
    schema = uniqueName('msg');
    dataSource = await schemaDataSource(schema, [effectsTableMigration(schema)]);
  });

  afterEach(async () => {
    await consumer?.stop();
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  afterAll(() => sender.disconnect());

  it('dead-letters a dead-letter code at once with keel_dlq_code, retries a retry code, and waits on a wait code past maxAttempts without dead-lettering it', async () => {
    const topic = await isolatedTopic(kafka, topics.caseEvents, 1);
    const calls = new Map<string, number>();
    // The wait code clears after more calls than the retry policy allows attempts: only waiting gets it through.
    const waitsBeforeSuccess = 5;
    const handler = async (event: CloudEvent<CaseEvent>, context: EventContext) => {
      const call = (calls.get(event.id) ?? 0) + 1;
      calls.set(event.id, call);
      const code = event.data.attributes.code as LedgerErrorCode | undefined;
      if (code === 'rate-not-published' && call <= waitsBeforeSuccess) throw new LedgerError(code);
      if (code === 'unknown-account' || code === 'ledger-busy') throw new LedgerError(code);
      await context.manager.query(
        `INSERT INTO "${schema}"."effects" (event_id, case_id, seq, consumer) VALUES ($1, $2, $3, 'handling')`,
        [event.id, event.subject, event.data.attributes.seq],
      );
    };
    await publisher.publish(topic, [
      sequencedCaseEvent('case-h', 1, { code: 'unknown-account' }),
      sequencedCaseEvent('case-h', 2, { code: 'ledger-busy' }),
      sequencedCaseEvent('case-h', 3, { code: 'rate-not-published' }),
      sequencedCaseEvent('case-h', 4),
    ]);

    consumer = new EventConsumer({
      kafka,
      groupId: uniqueName('group'),
      subscriptions: [subscribe(topic, handler)],
      dataSource,
      tables: new MessagingSchema(schema),
      deadLetters: sender,
      retry: { maxAttempts: 2, initialDelayMs: 20, multiplier: 2, maxDelayMs: 50 },
    });
    await consumer.start();

    const effects = await waitFor(
      async () => {
        const rows = await dataSource.query<Array<{ seq: number }>>(
          `SELECT seq FROM "${schema}".effects ORDER BY applied`,
        );
        return rows.length === 2 ? rows.map((row) => row.seq) : undefined;
      },
      { what: 'the waited record and the one behind it', timeoutMs: 30_000 },
    );
    expect(effects).toEqual([3, 4]);
    expect(calls.get('case-h-3')).toBe(waitsBeforeSuccess + 1);

    const deadLetters = await readTopic(kafka, deadLetterTopicName(topic.name), 2);
    const header = (message: KafkaMessage | undefined, name: string) => message?.headers?.[name]?.toString();
    expect(
      deadLetters.map((message) => ({
        id: header(message, 'ce_id'),
        reason: header(message, deadLetterHeaders.reason),
        code: header(message, deadLetterHeaders.code),
        attempts: header(message, deadLetterHeaders.attempts),
      })),
    ).toEqual([
      { id: 'case-h-1', reason: 'non-retryable', code: 'unknown-account', attempts: '1' },
      { id: 'case-h-2', reason: 'handler-failed', code: 'ledger-busy', attempts: '2' },
    ]);
    expect(calls.get('case-h-1')).toBe(1);
    expect(calls.get('case-h-2')).toBe(2);
  });
});
