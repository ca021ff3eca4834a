import {
  type CloudEvent,
  ContractViolationError,
  type TopicData,
  type TopicDefinition,
  decodeEvent,
} from '@keel/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { type DeadLetterReason, deadLetterRecord } from './dead-letter';
import type { MessagingSchema } from './messaging-tables';
import type { ConsumeOutcome, MessagingMetrics } from './messaging.metrics';
import { NonRetryableError } from './non-retryable.error';
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

export interface Subscription<T extends TopicDefinition = TopicDefinition> {
  readonly topic: T;
  readonly handler: EventHandler<TopicData<T>>;
}

/** Binds a handler to a topic with the topic's data type inferred. */
export function subscribe<T extends TopicDefinition>(
  topic: T,
  handler: EventHandler<TopicData<T>>,
): Subscription {
  return { topic, handler: handler as EventHandler<unknown> };
}

export interface ConsumerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface EventConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly subscriptions: readonly Subscription[];
  readonly dataSource: DataSource;
  readonly tables: MessagingSchema;
  /** Where dead letters go; must acknowledge before the offset moves past the record. */
  readonly deadLetters: RecordSender;
  readonly retry?: RetryPolicy;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly partitionsConsumedConcurrently?: number;
  /** Commit after this many records even inside a batch, to bound the replay after a crash. */
  readonly commitEveryRecords?: number;
  /** Consecutive records of a partition applied in one Postgres transaction (one commit for the run). */
  readonly recordsPerTransaction?: number;
  readonly metrics?: MessagingMetrics;
  readonly logger?: ConsumerLogger;
}

/**
 * Consumes topics with at-least-once delivery and effectively-once effects:
 * - records of one partition are handled one at a time, in order (the key is the case id, so per case);
 * - each record's event id is inserted into `processed_events` in the same transaction as the handler's
 *   effect, so a redelivered record is recognised and skipped (runs of records share a transaction, each
 *   under its own savepoint);
 * - offsets are committed only after the effect (or the dead letter) is durable;
 * - failures retry with exponential backoff; after the last attempt — or at once for a contract violation
 *   or a `NonRetryableError` — the record goes to `<topic>.dlq` with reason and origin, and the partition
 *   moves on.
 */
export class EventConsumer {
  readonly groupId: string;
  private readonly consumer: Consumer;
  private readonly handlers: Map<string, Subscription>;
  private readonly retry: RetryPolicy;
  private readonly commitEveryRecords: number;
  private readonly recordsPerTransaction: number;

  constructor(private readonly options: EventConsumerOptions) {
    this.groupId = options.groupId;
    this.retry = options.retry ?? defaultRetryPolicy;
    this.commitEveryRecords = options.commitEveryRecords ?? 100;
    this.recordsPerTransaction = options.recordsPerTransaction ?? 50;
    this.handlers = new Map(
      options.subscriptions.map((subscription) => [subscription.topic.name, subscription]),
    );
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // A new group starts at the beginning: events published before it first joined must not be missed.
    await this.consumer.subscribe({ topics: [...this.handlers.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** Finishes the record in flight, commits, and leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const subscription = this.handlers.get(batch.topic);
    if (!subscription) throw new Error(`no handler for topic ${batch.topic}`);
    const partition = batch.partition;
    let pending: DecodedRecord[] = [];
    let sinceCommit = 0;

    const flush = async () => {
      const done = await this.applyInOrder(subscription, partition, pending, () => payload.heartbeat());
      for (const record of done) payload.resolveOffset(record.message.offset);
      pending = [];
      sinceCommit += done.length;
      if (sinceCommit >= this.commitEveryRecords) {
        await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
        sinceCommit = 0;
      }
      await payload.heartbeat();
    };

    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) break;
      const decoded = this.decode(subscription, message);
      if (decoded instanceof ContractViolationError) {
        // Everything before it is made durable first, so offsets still move in order.
        await flush();
        await this.deadLetter(partition, message, subscription.topic.name, 'contract-violation', decoded, 1);
        this.options.metrics?.consumed.inc({ topic: subscription.topic.name, outcome: 'dead_lettered' });
        payload.resolveOffset(message.offset);
        continue;
      }
      pending.push({ message, event: decoded });
      if (pending.length >= this.recordsPerTransaction) await flush();
    }
    if (payload.isRunning() && !payload.isStale()) await flush();
    await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
    this.options.metrics?.consumerLag.set(
      { consumergroup: this.options.groupId, topic: batch.topic, partition: String(partition) },
      Number(batch.offsetLag()),
    );
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
   * (applied, skipped as duplicate, or dead-lettered). Runs of records share one transaction — one commit
   * instead of one per record — with a savepoint per record, so a failing record is rolled back alone,
   * the records before it commit, and it then takes the retry path on its own.
   */
  private async applyInOrder(
    subscription: Subscription,
    partition: number,
    records: readonly DecodedRecord[],
    heartbeat: () => Promise<void>,
  ): Promise<DecodedRecord[]> {
    const topic = subscription.topic.name;
    const done: DecodedRecord[] = [];
    let remaining = records;
    while (remaining.length > 0) {
      const stopTimer = this.options.metrics?.handleDuration.startTimer({ topic });
      const { outcomes, failure } = await this.applyRun(subscription, partition, remaining);
      const elapsed = stopTimer?.() ?? 0;
      for (const outcome of outcomes) this.options.metrics?.consumed.inc({ topic, outcome });
      if (outcomes.length > 0)
        this.options.metrics?.handleDuration.observe({ topic }, elapsed / outcomes.length);
      done.push(...remaining.slice(0, outcomes.length));
      if (!failure) break;
      const failed = remaining[outcomes.length];
      const outcome = await this.retryAlone(subscription, partition, failed, failure, heartbeat);
      this.options.metrics?.consumed.inc({ topic, outcome });
      done.push(failed);
      remaining = remaining.slice(outcomes.length + 1);
    }
    return done;
  }

  /** One transaction over a run of records; stops at the first failing record, committing those before it. */
  private async applyRun(
    subscription: Subscription,
    partition: number,
    records: readonly DecodedRecord[],
  ): Promise<{ outcomes: ConsumeOutcome[]; failure?: unknown }> {
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
            attempt: 1,
          });
          await manager.query('RELEASE SAVEPOINT keel_record');
          outcomes.push(fresh ? 'processed' : 'duplicate');
        } catch (error) {
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
    { message, event }: DecodedRecord,
    firstError: unknown,
    heartbeat: () => Promise<void>,
  ): Promise<ConsumeOutcome> {
    const topic = subscription.topic.name;
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      const permanent = error instanceof NonRetryableError || error instanceof ContractViolationError;
      if (permanent || attempt >= this.retry.maxAttempts) {
        await this.deadLetter(
          partition,
          message,
          topic,
          permanent ? 'non-retryable' : 'handler-failed',
          error,
          attempt,
        );
        return 'dead_lettered';
      }
      this.options.metrics?.consumed.inc({ topic, outcome: 'retried' });
      this.options.logger?.warn('handler failed; retrying', {
        topic,
        partition,
        offset: message.offset,
        attempt,
        caseId: event.subject,
        error: error instanceof Error ? error.message : String(error),
      });
      await sleepWithHeartbeats(retryDelayMs(this.retry, attempt), heartbeat);
      try {
        const origin = { topic, partition, offset: message.offset, attempt: attempt + 1 };
        const fresh = await this.options.dataSource.transaction((manager) =>
          this.applyOnce(manager, subscription, event, origin),
        );
        return fresh ? 'processed' : 'duplicate';
      } catch (next) {
        error = next;
      }
    }
  }

  /** Records the event id and runs the handler in the given transaction; false when the id was already there. */
  private async applyOnce(
    manager: EntityManager,
    subscription: Subscription,
    event: CloudEvent,
    origin: Omit<EventContext, 'manager'>,
  ): Promise<boolean> {
    // A concurrent holder of the same id (a zombie member during a rebalance) makes this wait, then skip.
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO ${this.options.tables.processedEvents} (consumer_group, event_id, topic)
       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING event_id`,
      [this.options.groupId, event.id, origin.topic],
    );
    if (inserted.length === 0) return false;
    await subscription.handler(event, { ...origin, manager });
    return true;
  }

  private async deadLetter(
    partition: number,
    message: KafkaMessage,
    topic: string,
    reason: DeadLetterReason,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const record = deadLetterRecord(
      message,
      { topic, partition, offset: message.offset, consumerGroup: this.options.groupId },
      { reason, error, attempts, failedAt: new Date() },
    );
    await this.options.deadLetters.send([record]);
    this.options.metrics?.deadLettered.inc({ topic });
    this.options.logger?.error('record dead-lettered', {
      caseId: message.key?.toString(),
      topic,
      partition,
      offset: message.offset,
      reason,
      attempts,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

interface DecodedRecord {
  readonly message: KafkaMessage;
  readonly event: CloudEvent;
}

// Long backoffs must not cost the group membership: keep heartbeating while waiting.
async function sleepWithHeartbeats(delayMs: number, heartbeat: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + delayMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, deadline - Date.now())));
    await heartbeat();
  }
}
