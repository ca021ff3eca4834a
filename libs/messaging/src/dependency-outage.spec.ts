import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import {
  QueryFailedError,
  QueryRunnerAlreadyReleasedError,
  QueryRunnerProviderAlreadyReleasedError,
} from 'typeorm';
import { isDependencyOutage, isRecordTooLarge } from './dependency-outage';
import { NonRetryableError } from './non-retryable.error';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const protocolError = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError(Object.assign(new Error(type), { type, retriable, code: 1 }));
// As kafkajs' retrier wraps what it gives up on.
const gaveUpOn = (error: Error) => Object.assign(new KafkaJSNonRetriableError(error), { cause: error });

describe('isDependencyOutage', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    [
      'a refusal on every address of the host',
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed'),
    ],
    ['pg losing its connection', new Error('Connection terminated unexpectedly')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
    [
      'a client whose connection broke',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['an administrator shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception', withCode('connection failure', '08006')],
    ['too many connections', withCode('sorry, too many clients already', '53300')],
    [
      'a statement failing on a dropped connection (typeorm)',
      new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
    ],
    [
      'a statement on a query runner typeorm released when its connection failed',
      new QueryRunnerAlreadyReleasedError(),
    ],
    ['a query through that runner’s manager', new QueryRunnerProviderAlreadyReleasedError()],
    ['an unreachable broker', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')],
    ['a request timeout', new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out')],
    ['a moved partition leader', protocolError('NOT_LEADER_OR_FOLLOWER', true)],
    [
      'a producer that gave up retrying an unreachable broker',
      Object.assign(
        new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), {
          retryCount: 8,
          retryTime: 12_800,
        }),
        { cause: new KafkaJSConnectionError('Connection timeout') },
      ),
    ],
  ])('recognises %s', (_, error) => {
    expect(isDependencyOutage(error)).toBe(true);
  });

  it.each([
    ['a handler bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a non-retryable handler failure', new NonRetryableError('order o-1 does not exist')],
    [
      'a constraint violation',
      new QueryFailedError('INSERT …', [], withCode('duplicate key value', '23505')),
    ],
    ['a lock timeout', withCode('canceling statement due to lock timeout', '55P03')],
    ['a record too large for the broker', protocolError('MESSAGE_TOO_LARGE', false)],
    [
      'a retrier that stopped on a non-retriable error',
      gaveUpOn(protocolError('TOPIC_AUTHORIZATION_FAILED', false)),
    ],
  ])('does not take %s for an outage', (_, error) => {
    expect(isDependencyOutage(error)).toBe(false);
  });
});

describe('isRecordTooLarge', () => {
  it('recognises the broker refusing a record or a batch for its size, however wrapped', () => {
    expect(isRecordTooLarge(protocolError('MESSAGE_TOO_LARGE', false))).toBe(true);
    expect(isRecordTooLarge(gaveUpOn(protocolError('RECORD_LIST_TOO_LARGE', false)))).toBe(true);
    expect(isRecordTooLarge(new KafkaJSConnectionError('Connection timeout'))).toBe(false);
  });
});
