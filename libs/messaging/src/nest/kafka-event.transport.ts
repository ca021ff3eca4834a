import { type CloudEvent, type TopicDefinition, type TopicKey, topics as registry } from '@keel/contracts';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import {
  EventConsumer,
  type EventConsumerOptions,
  type EventContext,
  type EventFilter,
  type EventRunContext,
  type Subscription,
  subscribe,
  subscribeRuns,
} from '../event-consumer';
import { assertDeduplicationCovers } from '../deduplication-window';
import { ensureTopics, topicSpecsWithDeadLetters } from '../topic-provisioner';
import { eventFilterExtra, eventGatherExtra, eventRunsExtra } from './kafka-event-handlers.decorator';
import { KafkaEventContext, KafkaEventRunContext } from './kafka-event.context';

export interface KafkaEventTransportOptions extends Omit<EventConsumerOptions, 'subscriptions'> {
  /**
   * Where `@EventPattern(<topic key>)` patterns resolve: the platform registry, or a namespaced copy of it
   * (`namespacedTopics`), so handlers name the logical topic and deployments choose the physical one.
   */
  readonly topics?: Readonly<Partial<Record<TopicKey, TopicDefinition>>>;
  /** How long processed-event ids are kept; checked at `listen` against the consumed topics' retention. */
  readonly deduplicationWindowMs: number;
}

/**
 * Nest custom transport over `EventConsumer`: `@EventPattern('<topic key>')` handlers (e.g.
 * `@EventPattern('decisions' satisfies TopicKey)`) receive the
 * validated `CloudEvent` and a `KafkaEventContext`; `@EventRunPattern('<topic key>')` handlers receive a
 * partition's run of fresh events and a `KafkaEventRunContext` (`subscribeRuns`). Nest's built-in Kafka transport is not used because
 * it commits offsets on its own schedule and knows nothing of our envelope, DLQ or idempotency store.
 */
export class KafkaEventTransport extends Server implements CustomTransportStrategy {
  private consumer: EventConsumer | undefined;
  private running = false;
  private starting: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: KafkaEventTransportOptions) {
    super();
  }

  /**
   * Returns at once and joins the group in the background, retrying while Kafka is unreachable: the service
   * stays up, its readiness reports Kafka, and it consumes as soon as the broker answers.
   */
  listen(callback: (error?: unknown) => void): void {
    const topics: Partial<Record<string, TopicDefinition>> = this.options.topics ?? registry;
    const subscriptions = [...this.messageHandlers.keys()].map((pattern): Subscription => {
      const topic = topics[pattern];
      if (!topic) throw new Error(`@EventPattern('${pattern}') names no topic key of the registry`);
      const extras = this.messageHandlers.get(pattern)?.extras;
      const gatherMs = extras?.[eventGatherExtra] as number | undefined;
      const options = {
        accepts: extras?.[eventFilterExtra] as EventFilter<unknown> | undefined,
        ...(gatherMs === undefined ? {} : { gatherMs }),
      };
      // `@EventRunPattern` handlers take a partition's run of fresh events in one call.
      if (extras?.[eventRunsExtra] === true)
        return subscribeRuns(topic, (events, context) => this.dispatchRun(pattern, events, context), options);
      return subscribe(topic, (event, context) => this.dispatch(pattern, event, context), options);
    });
    assertDeduplicationCovers(
      this.options.deduplicationWindowMs,
      subscriptions.map((subscription) => subscription.topic),
    );
    this.running = true;
    this.starting = this.startConsuming(subscriptions);
    callback();
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.starting;
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  private async startConsuming(subscriptions: readonly Subscription[]): Promise<void> {
    for (let attempt = 1; this.running; attempt++) {
      const consumer = new EventConsumer({ ...this.options, subscriptions });
      try {
        // The consumed topics and their dead-letter twins exist before the group joins (auto-creation is off).
        await ensureTopics(this.options.kafka, topicSpecsWithDeadLetters(subscriptions.map((s) => s.topic)));
        await consumer.start();
        this.consumer = consumer;
        return;
      } catch (error) {
        this.logger.error(
          `consumer group ${this.options.groupId} could not start (attempt ${attempt}): ${String(error)}`,
        );
        await consumer.stop().catch(() => undefined);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(30_000, 500 * 2 ** attempt));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  on(): never {
    throw new Error('KafkaEventTransport emits no events');
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('KafkaEventTransport is not listening');
    return this.consumer as T;
  }

  private dispatch(pattern: string, event: CloudEvent, context: EventContext): Promise<void> {
    return this.invoke(pattern, event, new KafkaEventContext([context]));
  }

  private dispatchRun(
    pattern: string,
    events: readonly CloudEvent[],
    context: EventRunContext,
  ): Promise<void> {
    return this.invoke(pattern, events, new KafkaEventRunContext([context]));
  }

  private async invoke(
    pattern: string,
    payload: CloudEvent | readonly CloudEvent[],
    context: KafkaEventContext | KafkaEventRunContext,
  ): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`no handler for ${pattern}`);
    try {
      const result: unknown = await handler(payload, context);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    } catch (error) {
      if (error instanceof Error) throw error;
      // Nest's default RPC filter replaced the error; the controller lacks @KafkaEventHandlers().
      throw new Error(
        `handler failed (${JSON.stringify(error)}); use @KafkaEventHandlers() to keep the error`,
      );
    }
  }
}
