import {
  type CloudEvent,
  ContractViolationError,
  type TopicData,
  type TopicDefinition,
  decodeEvent,
} from '@keel/contracts';
import { type ConsumerHandling, isKeelError } from '@keel/errors';
import { inTraceOf } from '@keel/tracing';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { type DeadLetterReason, deadLetterRecord, truncatedDeadLetterRecord } from './dead-letter';
import { DeliveryCounter } from './delivery-counter';
import { isDependencyOutage, isKafkaOutage, isRecordTooLarge } from './dependency-outage';
import type { KafkaConsumerPort, KafkaPort } from './kafka-port';
import type { MessagingSchema } from './messaging-tables';
import type { ConsumeOutcome, MessagingMetrics } from './messaging.metrics';
import { OffsetCommits } from './offset-commits';
import type { RecordSender } from './record-sender';
import { type RetryPolicy, defaultRetryPolicy, retryDelayMs } from './retry-policy';

/** What a handler gets beside the event: the transaction its effect must use, and where the record came from. */
export interface EventContext {
  /** The transaction that also records the event id as processed: write the effect through it. */
  readonly manager: EntityManager;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly attempt: number;
}

export type EventHandler<Data> = (event: CloudEvent<Data>, context: EventContext) => Promise<void>;

/** What a run handler gets beside the events: the transaction their effects must use, and the partition. */
export type EventRunContext = Omit<EventContext, 'offset'>;

/**
 * Handles a run of fresh events of one partition, in order, in one transaction (see `subscribeRuns`): one
 * call can write all their effects in one statement.
 */
export type EventRunHandler<Data> = (
  events: ReadonlyArray<CloudEvent<Data>>,
  context: EventRunContext,
) => Promise<void>;

/**
 * Which decoded events of a topic a subscription handles. It must decide from the event alone, the same way
 * on every delivery: a record it refuses is passed over without a trace (see `SubscriptionOptions.accepts`).
 */
export type EventFilter<Data> = (event: CloudEvent<Data>) => boolean;

export interface SubscriptionOptions<Data> {
  /**
   * When set, records whose event it refuses are never handled, counted as delivered, or recorded as
   * processed: their offsets move on once every record before them in the partition is durable, and a run
   * made only of such records costs no Postgres statement. For topics mostly carrying what this consumer
   * does not want (decisioning reads every workflow event for the few decision requests). Records that
   * cannot be decoded are dead-lettered as before: the filter only sees decoded events.
   */
  readonly accepts?: EventFilter<Data>;
  /**
   * When set, a partition read to its end is left out of fetches for this many ms after a batch, and what
   * arrives meanwhile comes in one fetch and one run instead of a fetch each (at a paced load a fetch otherwise
   * brings a record or two, and costs both sides a request). Its events wait up to this much longer, plus a
   * fetch's wait (250 ms) when it ends during one; a partition with records waiting is not held back, and the
   * consumer's other topics are fetched as before. For topics off a case's latency path that a consumer reads
   * mostly to pass over (decisioning's workflow events).
   */
  readonly gatherMs?: number;
}

export interface Subscription<T extends TopicDefinition = TopicDefinition> extends SubscriptionOptions<
  TopicData<T>
> {
  readonly topic: T;
  readonly handler: EventHandler<TopicData<T>>;
  /** When set, a run's fresh events go to it in one call; `handler` takes them one at a time on retries. */
  readonly runHandler?: EventRunHandler<TopicData<T>>;
}

/** The options a subscription carries, typed for any topic's data. */
function subscriptionOptions<Data>(options: SubscriptionOptions<Data>): SubscriptionOptions<unknown> {
  return {
    accepts: options.accepts as EventFilter<unknown> | undefined,
    ...(options.gatherMs === undefined ? {} : { gatherMs: options.gatherMs }),
  };
}

/** Binds a handler to a topic with the topic's data type inferred. */
export function subscribe<T extends TopicDefinition>(
  topic: T,
  handler: EventHandler<TopicData<T>>,
  options: SubscriptionOptions<TopicData<T>> = {},
): Subscription {
  return {
    topic,
    handler: handler as EventHandler<unknown>,
    ...subscriptionOptions(options),
  };
}

/**
 * Binds a run handler to a topic: the fresh events of a run of records (up to `recordsPerTransaction` of a
 * partition, duplicates left out) come in one call, in partition order, inside the transaction that records
 * their ids — so their effects can be written in one multi-row statement instead of one per event. When the
 * call fails, the run rolls back and its records are handled one at a time, each as a run of one under its
 * own savepoint: the failing record is found, the others commit, and it takes the retry path alone (it was
 * then called twice at attempt 1). A run handler must therefore not assume a run's size, only its order.
 */
export function subscribeRuns<T extends TopicDefinition>(
  topic: T,
  runHandler: EventRunHandler<TopicData<T>>,
  options: SubscriptionOptions<TopicData<T>> = {},
): Subscription {
  const handleRun = runHandler as EventRunHandler<unknown>;
  return {
    topic,
    handler: (event, { offset: _offset, ...context }) => handleRun([event], context),
    runHandler: handleRun,
    ...subscriptionOptions(options),
  };
}

export interface ConsumerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface EventConsumerOptions {
  readonly kafka: KafkaPort;
  readonly groupId: string;
  readonly subscriptions: readonly Subscription[];
  readonly dataSource: DataSource;
  readonly tables: MessagingSchema;
  /** Where dead letters go; must acknowledge before the offset moves past the record. */
  readonly deadLetters: RecordSender;
  readonly retry?: RetryPolicy;
  /**
   * Deliveries after which a record that never finished — its handler ended the process each time (exit,
   * endless loop killed by a watchdog, out of memory) — is dead-lettered unhandled, reason
   * `delivery-limit`. Default: the retry policy's `maxAttempts`.
   */
  readonly maxDeliveries?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /**
   * Partitions handled at once, each on its own pooled connection. Default 6, the most partitions a
   * registry topic has: the time a run takes is mostly Postgres round trips, which overlap across
   * partitions even on two cores (keep it below the pool size).
   */
  readonly partitionsConsumedConcurrently?: number;
  /** Commit after this many records even inside a batch, to bound the replay after a crash (default 200). */
  readonly commitEveryRecords?: number;
  /**
   * At most one offset commit per this many ms, besides those `commitEveryRecords` and stopping force
   * (default 250): a crash or rebalance then replays up to that much more, as duplicates (`OffsetCommits`).
   */
  readonly commitIntervalMs?: number;
  /**
   * Bytes the broker gathers before it answers a fetch, waiting at most 250 ms (default 1: at once). For a
   * consumer that is not on a case's path, longer runs cost fewer statements per record than a quick answer.
   */
  readonly fetchMinBytes?: number;
  /**
   * Consecutive records of a partition applied in one Postgres transaction (one commit for the run).
   * Default 200: a run's fixed cost (its delivery count, processed ids, commit and fsync) over 200 records
   * instead of 50 cut run handlers' CPU per record by ~20 % in this process and ~45 % in Postgres in the
   * Kafka bench's burst (ADR 0023). Runs only get that long when records wait: at a paced load a run is
   * what one fetch brought.
   */
  readonly recordsPerTransaction?: number;
  readonly metrics?: MessagingMetrics;
  readonly logger?: ConsumerLogger;
}

/**
 * Consumes topics with at-least-once delivery and effectively-once effects:
 * - records of one partition are handled one at a time, in order (the key is the case id, so per case);
 * - each record's event id is inserted into `processed_events` in the same transaction as the handler's
 *   effect, so a redelivered record is recognised and skipped (runs of records share a transaction, their
 *   ids recorded in one statement);
 * - offsets are committed only after the effect (or the dead letter) is durable, at most one commit per
 *   `commitIntervalMs` (what a crash or rebalance replays in between is skipped as duplicates);
 * - a handler's `KeelError` is handled as its catalog says (`consumerHandling`), any other error is retried:
 *   failures retry with exponential backoff; after the last attempt — or at once for a `dead-letter` code
 *   (a contract violation, a `NonRetryableError`) — the record goes to `<topic>.dlq` with reason, code
 *   (`keel_dlq_code`) and origin, its event id is recorded as processed in the same transaction, and the
 *   partition moves on; a `wait` code is retried like an outage, without spending attempts;
 * - deliveries are counted durably before handlers run (`DeliveryCounter`), so a record whose handler takes
 *   the process down is dead-lettered after `maxDeliveries` instead of redelivered forever;
 * - Postgres or Kafka being unreachable is no handler failure (`isDependencyOutage`): the partition waits
 *   for the dependency, heartbeating, and spends no attempt on it, however long it lasts;
 * - records a subscription's `accepts` refuses are passed over: no handler, delivery count or id, their
 *   offsets resolved in order behind the accepted records before them.
 */
export class EventConsumer {
  readonly groupId: string;
  private readonly consumer: KafkaConsumerPort;
  private readonly handlers: Map<string, Subscription>;
  private readonly retry: RetryPolicy;
  private readonly maxDeliveries: number;
  private readonly commitEveryRecords: number;
  private readonly recordsPerTransaction: number;
  private readonly deliveries: DeliveryCounter;
  private readonly commits: OffsetCommits;
  private stopping = false;
  /** Partitions paused to gather (`gatherMs`), by their resume timer: each resumes itself, or at `stop`. */
  private readonly gathering = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly options: EventConsumerOptions) {
    this.groupId = options.groupId;
    this.retry = options.retry ?? defaultRetryPolicy;
    this.maxDeliveries = options.maxDeliveries ?? this.retry.maxAttempts;
    this.commitEveryRecords = options.commitEveryRecords ?? 200;
    this.recordsPerTransaction = options.recordsPerTransaction ?? 200;
    this.deliveries = new DeliveryCounter(options.dataSource, options.tables, options.groupId);
    this.commits = new OffsetCommits(options.commitIntervalMs ?? 250, (error) =>
      options.logger?.warn('offset commit failed; its records come again, as duplicates', {
        group: options.groupId,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    this.handlers = new Map(
      options.subscriptions.map((subscription) => [subscription.topic.name, subscription]),
    );
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxWaitTimeInMs: 250,
      ...(options.fetchMinBytes ? { minBytes: options.fetchMinBytes } : {}),
      allowAutoTopicCreation: false,
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.deliveries.assertTable();
    await this.consumer.connect();
    // A new group starts at the beginning: events published before it first joined must not be missed.
    await this.consumer.subscribe({ topics: [...this.handlers.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 6,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** Finishes the run in flight, commits what is owed, and leaves the group. */
  async stop(): Promise<void> {
    // From here on a batch ends with its commit; what earlier batches owe is paid before leaving.
    this.stopping = true;
    const paused = [...this.gathering.values()];
    for (const timer of this.gathering.keys()) clearTimeout(timer);
    this.gathering.clear();
    await this.commits.settle();
    await this.consumer.disconnect();
    // Resumed once nothing fetches any more, so that this consumer started again reads every partition (the
    // in-process bus keeps a consumer's pauses across runs; kafkajs starts each run afresh).
    for (const resume of paused) resume();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const subscription = this.handlers.get(batch.topic);
    if (!subscription) throw new Error(`no handler for topic ${batch.topic}`);
    const partition = batch.partition;
    const commit = (force: boolean) =>
      this.commits.afterBatch(
        `${batch.topic}/${partition}`,
        () => payload.commitOffsetsIfNecessary(payload.uncommittedOffsets()),
        force || this.stopping,
      );
    const turn: PartitionTurn = {
      heartbeat: () => payload.heartbeat(),
      holds: () => payload.isRunning() && !payload.isStale(),
    };
    // In partition order: records to apply, and records the subscription does not accept between them.
    let pending: Array<DecodedRecord | IgnoredRecord> = [];
    let accepted: DecodedRecord[] = [];
    let sinceCommit = 0;

    const flush = async () => {
      const done = new Set(
        accepted.length > 0 ? await this.applyInOrder(subscription, partition, accepted, turn) : [],
      );
      // A resolved offset covers every offset before it: an ignored record is resolved only once each
      // accepted record before it is durable.
      let resolved = 0;
      for (const record of pending) {
        if (record.event !== undefined && !done.has(record)) break;
        payload.resolveOffset(record.message.offset);
        resolved++;
      }
      pending = [];
      accepted = [];
      sinceCommit += resolved;
      if (sinceCommit >= this.commitEveryRecords) {
        await commit(true);
        sinceCommit = 0;
      }
      await payload.heartbeat();
    };

    try {
      for (const message of batch.messages) {
        if (!turn.holds()) break;
        const decoded = this.decode(subscription, message);
        if (decoded instanceof ContractViolationError) {
          // Everything before it is made durable first, so offsets still move in order.
          await flush();
          // Nothing was handled, so there is no event id to record: a redelivery dead-letters it again.
          const reason = await this.despiteOutages(
            () =>
              this.sendDeadLetter(
                partition,
                message,
                subscription.topic.name,
                'contract-violation',
                decoded,
                1,
              ),
            turn,
          );
          this.reportDeadLetter(partition, message, subscription.topic.name, reason, decoded, 1);
          this.options.metrics?.consumed.inc({ topic: subscription.topic.name, outcome: 'dead_lettered' });
          payload.resolveOffset(message.offset);
          continue;
        }
        if (subscription.accepts && !subscription.accepts(decoded)) {
          pending.push({ message, event: undefined });
          continue;
        }
        const record = { message, event: decoded };
        pending.push(record);
        accepted.push(record);
        if (accepted.length >= this.recordsPerTransaction) await flush();
      }
      if (turn.holds()) await flush();
    } catch (error) {
      // Stopping or rebalancing while a dependency was away: what is durable gets committed below, the
      // rest is redelivered to whoever holds the partition next.
      if (!(error instanceof PartitionReleased)) {
        // A rebalance (kafkajs rejects the heartbeat) or a crash: what is durable is committed before the
        // partitions go, as kafkajs's own auto-commit does, so the next owner replays only the run in flight.
        await commit(true).catch(() => undefined);
        await this.commits.settle();
        throw error;
      }
    }
    // Stopping, or a partition dealt elsewhere meanwhile: its commit goes now.
    await commit(!turn.holds());
    const lag = Number(batch.offsetLag());
    this.options.metrics?.consumerLag.set(
      { consumergroup: this.options.groupId, topic: batch.topic, partition: String(partition) },
      lag,
    );
    // Only a partition read to its end is gathered: one with records waiting (a backlog, a replay) goes on.
    if (subscription.gatherMs !== undefined && lag === 0 && turn.holds() && !this.stopping)
      this.gather(payload, subscription.gatherMs);
  }

  /**
   * Leaves the batch's partition out of fetches for `ms`. Fetching resumes from the partition's resolved
   * offset, so a batch kafkajs fetched meanwhile and drops (the partition is paused) comes again.
   */
  private gather(payload: EachBatchPayload, ms: number): void {
    const resume = payload.pause();
    const timer = setTimeout(() => {
      this.gathering.delete(timer);
      resume();
    }, ms);
    this.gathering.set(timer, resume);
  }

  private decode(subscription: Subscription, message: KafkaMessage): CloudEvent | ContractViolationError {
    try {
      return decodeEvent(subscription.topic, {
        key: message.key,
        value: message.value,
        headers: message.headers ?? {},
      });
    } catch (error) {
      if (error instanceof ContractViolationError) return error;
      throw error;
    }
  }

  /**
   * Applies consecutive records of one partition, in order, and returns them once each is durable
   * (applied, skipped as duplicate, or dead-lettered). Each run is counted as delivered first (one
   * statement); records an earlier, unfinished delivery left behind are taken one at a time instead.
   */
  private async applyInOrder(
    subscription: Subscription,
    partition: number,
    records: readonly DecodedRecord[],
    turn: PartitionTurn,
  ): Promise<DecodedRecord[]> {
    const topic = subscription.topic.name;
    const done: DecodedRecord[] = [];
    let remaining = records;
    while (remaining.length > 0) {
      const first = remaining[0].message.offset;
      const last = remaining[remaining.length - 1].message.offset;
      const unfinished = await this.despiteOutages(
        () => this.deliveries.countRun(topic, partition, first, last),
        turn,
      );
      if (!unfinished) {
        done.push(...(await this.applyRecords(subscription, partition, remaining, turn)));
        break;
      }
      const offsetOf = (record: DecodedRecord) => BigInt(record.message.offset);
      // Before the unfinished range: handled by the delivery that died (duplicates now, their handlers do
      // not run) — unless this is a replay past the deduplication window, and the row is from an earlier pass.
      const before = remaining.filter((record) => offsetOf(record) < unfinished.from);
      if (before.length > 0 && !(await this.despiteOutages(() => this.allProcessed(before), turn))) {
        await this.despiteOutages(
          () => this.deliveries.countReplayedRun(topic, partition, first, last),
          turn,
        );
        done.push(...(await this.applyRecords(subscription, partition, remaining, turn)));
        break;
      }
      done.push(...(await this.applyRecords(subscription, partition, before, turn)));
      for (const record of remaining) {
        if (offsetOf(record) < unfinished.from || offsetOf(record) > unfinished.to) continue;
        await this.applyAlone(subscription, partition, record, turn);
        done.push(record);
      }
      remaining = remaining.filter((record) => offsetOf(record) > unfinished.to);
    }
    return done;
  }

  /** A record an unfinished delivery left behind: counted on its own, then handled, or dead-lettered. */
  private async applyAlone(
    subscription: Subscription,
    partition: number,
    record: DecodedRecord,
    turn: PartitionTurn,
  ): Promise<void> {
    const topic = subscription.topic.name;
    const deliveries = await this.despiteOutages(
      () => this.deliveries.countAlone(topic, partition, record.message.offset),
      turn,
    );
    if (deliveries <= this.maxDeliveries) {
      await this.applyRecords(subscription, partition, [record], turn);
      return;
    }
    const unfinished = deliveries - 1;
    const error = new Error(`delivered ${unfinished} times without finishing (the handler never returned)`);
    const outcome = await this.deadLetterAsHandled(
      subscription,
      partition,
      record,
      'delivery-limit',
      error,
      unfinished,
      turn,
    );
    this.options.metrics?.consumed.inc({ topic, outcome });
  }

  /**
   * Runs of records share one transaction — one commit instead of one per record. A failing record leaves
   * the records before it committed (see `applyRun`) and then takes the retry path on its own.
   */
  private async applyRecords(
    subscription: Subscription,
    partition: number,
    records: readonly DecodedRecord[],
    turn: PartitionTurn,
  ): Promise<DecodedRecord[]> {
    const topic = subscription.topic.name;
    const done: DecodedRecord[] = [];
    let remaining = records;
    while (remaining.length > 0) {
      const stopTimer = this.options.metrics?.handleDuration.startTimer({ topic });
      const { outcomes, failure } = await this.applyRun(subscription, partition, remaining, turn);
      const elapsed = stopTimer?.() ?? 0;
      for (const outcome of outcomes) this.options.metrics?.consumed.inc({ topic, outcome });
      if (outcomes.length > 0)
        this.options.metrics?.handleDuration.observe({ topic }, elapsed / outcomes.length);
      done.push(...remaining.slice(0, outcomes.length));
      if (!failure) break;
      const failed = remaining[outcomes.length];
      const outcome = await this.retryAlone(subscription, partition, failed, failure, turn);
      this.options.metrics?.consumed.inc({ topic, outcome });
      done.push(failed);
      remaining = remaining.slice(outcomes.length + 1);
    }
    return done;
  }

  /**
   * One transaction over a run of records; stops at the first failing record, committing those before it.
   * The common case costs one statement for the run's event ids plus the handlers' own: the ids go in at
   * once, only the fresh records' handlers run, and no savepoints are taken. A failing handler rolls the
   * whole run back; the records before it are then redone under a savepoint each, so they commit and the
   * failing one takes the retry path alone. (Their handlers run twice then: an effect outside the
   * transaction may repeat, as after any redelivery.)
   */
  private async applyRun(
    subscription: Subscription,
    partition: number,
    records: readonly DecodedRecord[],
    turn: PartitionTurn,
    attempt = 1,
  ): Promise<RunResult> {
    const atOnce = await this.despiteOutages(
      () => this.applyRunAtOnce(subscription, partition, records, attempt),
      turn,
    );
    if (atOnce.failure === undefined) return atOnce;
    // A run handler's failure names no record: a longer run is redone one record at a time to find it.
    const located = subscription.runHandler === undefined || records.length === 1;
    const redo = located ? records.slice(0, atOnce.outcomes.length) : records;
    if (redo.length === 0) return atOnce;
    // An outage meanwhile repeats the redo alone: the failure already seen stays the failing record's.
    const redone = await this.despiteOutages(
      () => this.applyRunBySavepoints(subscription, partition, redo, attempt),
      turn,
    );
    return redone.failure === undefined && located
      ? { outcomes: redone.outcomes, failure: atOnce.failure }
      : redone;
  }

  /**
   * The run in one transaction without savepoints. On a failure nothing commits; `outcomes` then holds
   * the records before the failing one (handled, but rolled back with it) — none for a run handler's.
   */
  private async applyRunAtOnce(
    subscription: Subscription,
    partition: number,
    records: readonly DecodedRecord[],
    attempt: number,
  ): Promise<RunResult> {
    const topic = subscription.topic.name;
    const queryRunner = this.options.dataSource.createQueryRunner();
    try {
      await queryRunner.startTransaction();
      const { manager } = queryRunner;
      const outcomes: ConsumeOutcome[] = [];
      try {
        const fresh = await this.recordAllProcessed(manager, records, topic);
        if (subscription.runHandler) {
          const runOutcomes = records.map(({ event }): ConsumeOutcome =>
            fresh.delete(event.id) ? 'processed' : 'duplicate',
          );
          const events = records.filter((_, i) => runOutcomes[i] === 'processed').map(({ event }) => event);
          if (events.length > 0)
            await subscription.runHandler(events, { manager, topic, partition, attempt });
          outcomes.push(...runOutcomes);
        } else
          for (const { message, event } of records) {
            // An id twice in one run: its first record is the fresh one.
            if (!fresh.delete(event.id)) {
              outcomes.push('duplicate');
              continue;
            }
            await this.handle(subscription, event, {
              manager,
              topic,
              partition,
              offset: message.offset,
              attempt,
            });
            outcomes.push('processed');
          }
      } catch (error) {
        // As under a savepoint: Kafka failing under the handler is an outage, and whether Postgres is gone
        // the rollback tells (it fails on a dead connection, and that error goes to `despiteOutages`).
        if (isKafkaOutage(error)) throw error;
        await queryRunner.rollbackTransaction();
        return { outcomes, failure: error };
      }
      await queryRunner.commitTransaction();
      return { outcomes };
    } finally {
      if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction().catch(() => undefined);
      await queryRunner.release();
    }
  }

  /** The run in one transaction with a savepoint per record: the retry path's, after a run failed. */
  private async applyRunBySavepoints(
    subscription: Subscription,
    partition: number,
    records: readonly DecodedRecord[],
    attempt: number,
  ): Promise<RunResult> {
    const outcomes: ConsumeOutcome[] = [];
    let failure: unknown;
    await this.options.dataSource.transaction(async (manager) => {
      for (const { message, event } of records) {
        await manager.query('SAVEPOINT keel_record');
        try {
          const fresh = await this.applyOnce(manager, subscription, event, {
            topic: subscription.topic.name,
            partition,
            offset: message.offset,
            attempt,
          });
          await manager.query('RELEASE SAVEPOINT keel_record');
          outcomes.push(fresh ? 'processed' : 'duplicate');
        } catch (error) {
          // An outage fails the whole run, to be redone once the dependency answers: it is nobody's attempt.
          // Kafka failing under the handler is one; whether Postgres is gone, the rollback tells (it fails on
          // a dead connection). A connection error from another service the handler calls is its failure.
          if (isKafkaOutage(error)) throw error;
          await manager.query('ROLLBACK TO SAVEPOINT keel_record');
          failure = error;
          return;
        }
      }
    });
    return failure === undefined ? { outcomes } : { outcomes, failure };
  }

  /** A record that failed inside a run: retried on its own with backoff, then dead-lettered. */
  private async retryAlone(
    subscription: Subscription,
    partition: number,
    record: DecodedRecord,
    firstError: unknown,
    turn: PartitionTurn,
  ): Promise<ConsumeOutcome> {
    const topic = subscription.topic.name;
    const { message, event } = record;
    let error = firstError;
    let waits = 0;
    for (let attempt = 1; ;) {
      const handling = consumerHandlingOf(error);
      if (handling === 'wait') {
        // What the record needs is on its way (e.g. a definition another replica is publishing): it waits
        // the way an outage is waited out, holding the partition, and spends no attempt.
        if (waits === 0)
          this.options.logger?.warn('handler waits for what the record needs; partition holds', {
            topic,
            partition,
            offset: message.offset,
            caseId: event.subject,
            error: errorText(error),
          });
        await sleepWithHeartbeats(Math.min(5_000, 100 * 2 ** waits++), turn);
      } else {
        const permanent = handling === 'dead-letter';
        if (permanent || attempt >= this.retry.maxAttempts) {
          const reason = permanent ? 'non-retryable' : 'handler-failed';
          return this.deadLetterAsHandled(subscription, partition, record, reason, error, attempt, turn);
        }
        this.options.metrics?.consumed.inc({ topic, outcome: 'retried' });
        this.options.logger?.warn('handler failed; retrying', {
          topic,
          partition,
          offset: message.offset,
          attempt,
          caseId: event.subject,
          error: errorText(error),
        });
        await sleepWithHeartbeats(retryDelayMs(this.retry, attempt), turn);
        attempt++;
      }
      const { outcomes, failure } = await this.applyRun(subscription, partition, [record], turn, attempt);
      if (failure === undefined) return outcomes[0];
      error = failure;
    }
  }

  /** Records the event id and runs the handler in the given transaction; false when the id was already there. */
  private async applyOnce(
    manager: EntityManager,
    subscription: Subscription,
    event: CloudEvent,
    origin: Omit<EventContext, 'manager'>,
  ): Promise<boolean> {
    if (!(await this.recordProcessed(manager, event, origin.topic))) return false;
    await this.handle(subscription, event, { ...origin, manager });
    return true;
  }

  /**
   * Runs the handler in a span continuing the trace the event carries, so what the handler writes to the
   * outbox — and, downstream, what its consumers do — stays in the trace of the request that began the case.
   */
  private handle(subscription: Subscription, event: CloudEvent, context: EventContext): Promise<void> {
    return inTraceOf(
      event.traceparent,
      `${subscription.topic.name} process`,
      {
        'messaging.system': 'kafka',
        'messaging.destination.name': context.topic,
        'messaging.kafka.destination.partition': context.partition,
        'messaging.message.id': event.id,
        'messaging.consumer.group.name': this.options.groupId,
      },
      () => subscription.handler(event, context),
    );
  }

  private async allProcessed(records: readonly DecodedRecord[]): Promise<boolean> {
    const [{ processed }] = await this.options.dataSource.query<[{ processed: number }]>(
      `SELECT count(*)::int AS processed FROM ${this.options.tables.processedEvents}
       WHERE consumer_group = $1 AND event_id = ANY($2::text[])`,
      [this.options.groupId, records.map((record) => record.event.id)],
    );
    return processed === records.length;
  }

  // A concurrent holder of the same id (a zombie member during a rebalance) makes this wait, then skip.
  private async recordProcessed(manager: EntityManager, event: CloudEvent, topic: string): Promise<boolean> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO ${this.options.tables.processedEvents} (consumer_group, event_id, topic)
       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING event_id`,
      [this.options.groupId, event.id, topic],
    );
    return inserted.length > 0;
  }

  /** Records a run's event ids as processed in one statement; returns those not seen before. */
  private async recordAllProcessed(
    manager: EntityManager,
    records: readonly DecodedRecord[],
    topic: string,
  ): Promise<Set<string>> {
    // In the run's order, so two members racing on the same run (a zombie) take the id locks alike.
    const inserted = await manager.query<Array<{ event_id: string }>>(
      `INSERT INTO ${this.options.tables.processedEvents} (consumer_group, event_id, topic)
       SELECT $1, event_id, $3 FROM unnest($2::text[]) AS event_id
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [this.options.groupId, records.map((record) => record.event.id), topic],
    );
    return new Set(inserted.map((row) => row.event_id));
  }

  /**
   * Dead-letters a record and records its event id as processed in one transaction: the id commits only
   * once the dead letter is acknowledged, and a redelivery after a crash finds it handled. A record already
   * handled (a redelivery) is a duplicate and goes nowhere.
   */
  private async deadLetterAsHandled(
    subscription: Subscription,
    partition: number,
    { message, event }: DecodedRecord,
    reason: DeadLetterReason,
    error: unknown,
    attempts: number,
    turn: PartitionTurn,
  ): Promise<ConsumeOutcome> {
    const topic = subscription.topic.name;
    const sent = await this.despiteOutages(
      () =>
        this.options.dataSource.transaction(async (manager) => {
          if (!(await this.recordProcessed(manager, event, topic))) return undefined;
          return this.sendDeadLetter(partition, message, topic, reason, error, attempts);
        }),
      turn,
    );
    if (sent === undefined) return 'duplicate';
    this.reportDeadLetter(partition, message, topic, sent, error, attempts);
    return 'dead_lettered';
  }

  /**
   * Sends the dead letter and resolves once it is acknowledged; returns the reason it carries. Refused for
   * its size (the record was near the limit and the dead-letter headers pushed it over), a truncated copy
   * goes instead, so the partition is not stalled behind a record that can never be sent.
   */
  private async sendDeadLetter(
    partition: number,
    message: KafkaMessage,
    topic: string,
    reason: DeadLetterReason,
    error: unknown,
    attempts: number,
  ): Promise<DeadLetterReason> {
    const origin = { topic, partition, offset: message.offset, consumerGroup: this.options.groupId };
    const failure = { reason, error, attempts, failedAt: new Date() };
    try {
      await this.options.deadLetters.send([deadLetterRecord(message, origin, failure)]);
      return reason;
    } catch (sendError) {
      if (!isRecordTooLarge(sendError)) throw sendError;
      await this.options.deadLetters.send([truncatedDeadLetterRecord(message, origin, failure)]);
      return 'too-large';
    }
  }

  private reportDeadLetter(
    partition: number,
    message: KafkaMessage,
    topic: string,
    reason: DeadLetterReason,
    error: unknown,
    attempts: number,
  ): void {
    this.options.metrics?.deadLettered.inc({ topic });
    this.options.logger?.error('record dead-lettered', {
      caseId: message.key?.toString(),
      topic,
      partition,
      offset: message.offset,
      reason,
      attempts,
      error: errorText(error),
    });
  }

  /**
   * Runs a step until it gets past an outage of Postgres or Kafka: while the dependency is away the
   * partition waits (heartbeating, so the group keeps it here) and retries with backoff. Other errors are
   * the step's own and go to the caller.
   */
  private async despiteOutages<T>(step: () => Promise<T>, turn: PartitionTurn): Promise<T> {
    let outageSince: number | undefined;
    for (let waits = 0; ; waits++) {
      try {
        const result = await step();
        if (outageSince !== undefined)
          this.options.logger?.warn('dependency answers again; partition resumed', {
            consumerGroup: this.options.groupId,
            waitedMs: Date.now() - outageSince,
          });
        return result;
      } catch (error) {
        if (!isDependencyOutage(error)) throw error;
        if (outageSince === undefined) {
          outageSince = Date.now();
          this.options.logger?.warn('dependency unreachable; partition waits for it', {
            consumerGroup: this.options.groupId,
            error: errorText(error),
          });
        }
        await sleepWithHeartbeats(Math.min(5_000, 100 * 2 ** waits), turn);
      }
    }
  }
}

/** Outcomes of the records that committed, in order; then the failure of the record after them, if any. */
interface RunResult {
  readonly outcomes: ConsumeOutcome[];
  readonly failure?: unknown;
}

interface DecodedRecord {
  readonly message: KafkaMessage;
  readonly event: CloudEvent;
}

/** A record whose event the subscription does not accept: it only has an offset to resolve. */
interface IgnoredRecord {
  readonly message: KafkaMessage;
  readonly event: undefined;
}

/** What a step may do while its batch holds the partition. */
interface PartitionTurn {
  readonly heartbeat: () => Promise<void>;
  /** False once the consumer stops or the partition is being reassigned. */
  readonly holds: () => boolean;
}

/** The batch lost its partition (stop, rebalance) while waiting: it ends without handling more. */
class PartitionReleased extends Error {
  constructor() {
    super('the partition was released while waiting');
  }
}

/** A `KeelError` is handled as its module's catalog says; anything else is worth retrying. */
function consumerHandlingOf(error: unknown): ConsumerHandling {
  return isKeelError(error) ? error.consumerHandling : 'retry';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Long waits must not cost the group membership: keep heartbeating, and stop waiting when the partition goes.
async function sleepWithHeartbeats(delayMs: number, turn: PartitionTurn): Promise<void> {
  const deadline = Date.now() + delayMs;
  while (Date.now() < deadline) {
    if (!turn.holds()) throw new PartitionReleased();
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, deadline - Date.now())));
    await turn.heartbeat();
  }
}
