import { type CaseEvent, type CloudEvent, deadLetterTopicName, topics } from '@keel/contracts';
import { type ErrorCatalog, KeelError } from '@keel/errors';
import { deadLetterHeaders, type EventContext, subscribe } from '@keel/messaging';
import {
  isolatedTopic,
  messagingTestBed,
  readTopic,
  recordHeader,
  sequencedCaseEvent,
  waitFor,
} from '@keel/testing';

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
  const bed = messagingTestBed({ schemaPrefix: 'msg' });

  it('dead-letters a dead-letter code at once with keel_dlq_code, retries a retry code, and waits on a wait code past maxAttempts without dead-lettering it', async () => {
    const topic = await isolatedTopic(bed.kafka, topics.caseEvents, 1);
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
        `INSERT INTO "${bed.schema}"."effects" (event_id, case_id, seq, consumer) VALUES ($1, $2, $3, 'handling')`,
        [event.id, event.subject, event.data.attributes.seq],
      );
    };
    await bed.publisher.publish(topic, [
      sequencedCaseEvent('case-h', 1, { code: 'unknown-account' }),
      sequencedCaseEvent('case-h', 2, { code: 'ledger-busy' }),
      sequencedCaseEvent('case-h', 3, { code: 'rate-not-published' }),
      sequencedCaseEvent('case-h', 4),
    ]);

    await bed.startConsumer({
      subscriptions: [subscribe(topic, handler)],
      retry: { maxAttempts: 2, initialDelayMs: 20, multiplier: 2, maxDelayMs: 50 },
    });

    const effects = await waitFor(
      async () => {
        const seqs = await bed.appliedSeqs();
        return seqs.length === 2 ? seqs : undefined;
      },
      { what: 'the waited record and the one behind it', timeoutMs: 30_000 },
    );
    expect(effects).toEqual([3, 4]);
    expect(calls.get('case-h-3')).toBe(waitsBeforeSuccess + 1);

    const deadLetters = await readTopic(bed.kafka, deadLetterTopicName(topic.name), 2);
    expect(
      deadLetters.map((message) => ({
        id: recordHeader(message, 'ce_id'),
        reason: recordHeader(message, deadLetterHeaders.reason),
        code: recordHeader(message, deadLetterHeaders.code),
        attempts: recordHeader(message, deadLetterHeaders.attempts),
      })),
    ).toEqual([
      { id: 'case-h-1', reason: 'non-retryable', code: 'unknown-account', attempts: '1' },
      { id: 'case-h-2', reason: 'handler-failed', code: 'ledger-busy', attempts: '2' },
    ]);
    expect(calls.get('case-h-1')).toBe(1);
    expect(calls.get('case-h-2')).toBe(2);
  });
});
