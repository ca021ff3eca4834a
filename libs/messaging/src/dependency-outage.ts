import { classifyPostgresFailure } from '@keel/persistence';
import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';

/**
 * Whether an error of the consumer's own work (its statements, commits, dead-letter sends) means Postgres or
 * Kafka could not be reached, rather than that the handler (or the record) failed. An outage is waited out
 * without spending the record's attempts, so a live record is never dead-lettered because a dependency was
 * away. A handler's own error is judged differently (see `EventConsumer`): socket errors there may come from
 * any service it calls.
 *
 * Postgres: what `classifyPostgresFailure` calls `unavailable` (socket errors, the connection-exception class `08`,
 * server shutdown and start-up, too many connections, pg / pg-pool's messages for a dropped connection or a pool
 * timeout), and typeorm refusing a query runner it released because its connection failed.
 * Kafka: kafkajs errors whose root cause kafkajs marks retriable (connection, request timeout, leader moved,
 * coordinator not available…), including a retrier that gave up on one. A retriable error means the cluster
 * is not answering properly yet; a non-retriable one (`MESSAGE_TOO_LARGE`, authorization) is about the request.
 */
export function isDependencyOutage(error: unknown): boolean {
  return causes(error).some((cause) => isPostgresOutage(cause) || isRetriableKafkaError(cause));
}

/** Whether the broker refused a record for its size (the record itself must change, retrying cannot help). */
export function isRecordTooLarge(error: unknown): boolean {
  return causes(error).some((cause) => tooLargeTypes.has(String(cause.type)));
}

const tooLargeTypes = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly type?: unknown;
  readonly retriable?: unknown;
}

function isPostgresOutage(error: ErrorLike): boolean {
  // typeorm releases a query runner as soon as its connection emits an error; the consumer's next statement
  // on it (a rollback, a savepoint) then fails so, though it is the lost connection that it reports.
  if (
    error instanceof QueryRunnerAlreadyReleasedError ||
    error instanceof QueryRunnerProviderAlreadyReleasedError
  )
    return true;
  // kafkajs's messages ("Connection timeout", …) are judged by its own `retriable` flag, never as Postgres's.
  return !String(error.name).startsWith('KafkaJS') && classifyPostgresFailure(error) === 'unavailable';
}

/** Whether a kafkajs error (however wrapped) means the cluster is not answering properly yet. */
export function isKafkaOutage(error: unknown): boolean {
  return causes(error).some(isRetriableKafkaError);
}

function isRetriableKafkaError(error: ErrorLike): boolean {
  return String(error.name).startsWith('KafkaJS') && error.retriable === true;
}

/**
 * The error and everything it wraps: `cause` (kafkajs retriers, Error causes), typeorm's `driverError`, and
 * the members of an `AggregateError` (Node reports a refused connection to every address of a host so).
 */
function causes(error: unknown, seen = new Set<unknown>()): ErrorLike[] {
  if (typeof error !== 'object' || error === null || seen.has(error)) return [];
  seen.add(error);
  const wrapper = error as { cause?: unknown; driverError?: unknown; errors?: unknown };
  const members: unknown[] = Array.isArray(wrapper.errors) ? wrapper.errors : [];
  const nested = [wrapper.cause, wrapper.driverError, ...members];
  return [error, ...nested.flatMap((inner) => causes(inner, seen))];
}
