import { type CloudEvent, type TopicDefinition, type TopicKey, topics as registry } from '@keel/contracts';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import {
  EventConsumer,
  type EventConsumerOptions,
  type EventContext,
  type Subscription,
} from '../event-consumer';
import { KafkaEventContext } from './kafka-event.context';

export interface KafkaEventTransportOptions extends Omit<EventConsumerOptions, 'subscriptions'> {
  /**
   * Where `@EventPattern(<topic key>)` patterns resolve: the platform registry, or a namespaced copy of it
   * (`namespacedTopics`), so handlers name the logical topic and deployments choose the physical one.
   */
  readonly topics?: Readonly<Partial<Record<TopicKey, TopicDefinition>>>;
}

/**
 * Nest custom transport over `EventConsumer`: `@EventPattern('<topic key>')` handlers (e.g.
 * `@EventPattern('decisions' satisfies TopicKey)`) receive the
 * validated `CloudEvent` and a `KafkaEventContext`. Nest's built-in Kafka transport is not used because
 * it commits offsets on its own schedule and knows nothing of our envelope, DLQ or idempotency store.
 */
export class KafkaEventTransport extends Server implements CustomTransportStrategy {
  private consumer: EventConsumer | undefined;

  constructor(private readonly options: KafkaEventTransportOptions) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const topics: Partial<Record<string, TopicDefinition>> = this.options.topics ?? registry;
    const subscriptions = [...this.messageHandlers.keys()].map((pattern): Subscription => {
      const topic = topics[pattern];
      if (!topic) throw new Error(`@EventPattern('${pattern}') names no topic key of the registry`);
      return { topic, handler: (event, context) => this.dispatch(pattern, event, context) };
    });
    this.consumer = new EventConsumer({ ...this.options, subscriptions });
    this.consumer.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  on(): never {
    throw new Error('KafkaEventTransport emits no events');
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('KafkaEventTransport is not listening');
    return this.consumer as T;
  }

  private async dispatch(pattern: string, event: CloudEvent, context: EventContext): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`no handler for ${pattern}`);
    const result: unknown = await handler(event, new KafkaEventContext([context]));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }
}
