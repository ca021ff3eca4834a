import { namespacedTopics, type topics as registryTopics } from '@keel/contracts';
import { METRICS_REGISTRY, provideReadinessCheck } from '@keel/observability';
import {
  type DynamicModule,
  Inject,
  Injectable,
  type INestApplicationContext,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { EventPublisher } from '../event-publisher';
import { kafkaClient } from '../kafka-client';
import type { KafkaPort } from '../kafka-port';
import { kafkaReadinessCheck } from '../kafka-readiness';
import { MessagingRetention } from '../messaging-retention';
import { MessagingSchema } from '../messaging-tables';
import { createMessagingMetrics, type MessagingMetrics } from '../messaging.metrics';
import { OutboxWriter } from '../outbox';
import { OutboxRelay } from '../outbox-relay';
import { PollingLoop } from '../polling-loop';
import { KafkaRecordSender } from '../record-sender';
import type { RetryPolicy } from '../retry-policy';
import { KafkaEventTransport, type KafkaEventTransportOptions } from './kafka-event.transport';

export interface MessagingModuleOptions {
  /** Service name: Kafka client id and consumer group. */
  readonly service: string;
  /** The service's Postgres schema, holding its `outbox` and `processed_events` tables. */
  readonly schema: string;
  readonly brokers: readonly string[];
  readonly topicNamespace: string;
  readonly outboxPollMs: number;
  readonly outboxRetentionMs: number;
  readonly processedEventsRetentionMs: number;
  readonly retry: RetryPolicy;
  readonly sessionTimeoutMs?: number;
}

export const MESSAGING_OPTIONS = Symbol('keel.messaging-options');
export const KAFKA = Symbol('keel.kafka');
export const MESSAGING_METRICS = Symbol('keel.messaging-metrics');
/** The topic registry as this deployment names it (namespaced or not). */
export const TOPICS = Symbol('keel.topics');
export type Topics = typeof registryTopics;

/** Runs the outbox relay, and the retention of the messaging tables, for the application's lifetime. */
@Injectable()
class OutboxRelayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly relay: OutboxRelay;
  private readonly retention: PollingLoop;
  private stopHearingWrites: (() => void) | undefined;

  constructor(
    dataSource: DataSource,
    @Inject(MESSAGING_OPTIONS) options: MessagingModuleOptions,
    tables: MessagingSchema,
    sender: KafkaRecordSender,
    @Inject(MESSAGING_METRICS) metrics: MessagingMetrics,
    private readonly writer: OutboxWriter,
  ) {
    const logger = new Logger('OutboxRelay');
    this.relay = new OutboxRelay({
      dataSource,
      tables,
      sender,
      pollIntervalMs: options.outboxPollMs,
      metrics,
      // The relay retries on its next poll; the log says why publishing stalls meanwhile.
      onError: (error) => logger.error('outbox relay failed; retrying', { error: String(error) }),
    });
    const retention = new MessagingRetention({
      dataSource,
      tables,
      outboxRetentionMs: options.outboxRetentionMs,
      processedEventsRetentionMs: options.processedEventsRetentionMs,
    });
    this.retention = new PollingLoop(() => retention.tick(), {
      intervalMs: 60_000,
      onError: (error) => logger.error('messaging retention failed', { error: String(error) }),
    });
  }

  onApplicationBootstrap(): void {
    // Commits of this data source wake the relay; rows written outside a transaction have no commit event.
    this.stopHearingWrites = this.writer.whenWrittenOutsideTransaction(() => this.relay.nudge());
    this.relay.start();
    this.retention.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopHearingWrites?.();
    await Promise.all([this.relay.stop(), this.retention.stop()]);
  }
}

/** Disconnects the shared producer last, after consumers and the relay have stopped using it. */
@Injectable()
class SenderCloser implements OnApplicationShutdown {
  constructor(private readonly sender: KafkaRecordSender) {}

  onApplicationShutdown(): Promise<void> {
    return this.sender.disconnect();
  }
}

/**
 * Kafka for a Nest service: client, idempotent producer, publisher, outbox writer and relay, messaging
 * metrics on the app's registry, the (namespaced) topic registry and a Kafka readiness check.
 * Needs `MetricsModule` and `PersistenceModule` (a `DataSource`) in the application.
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: KAFKA,
          useFactory: () => kafkaClient({ brokers: options.brokers, clientId: options.service }),
        },
        { provide: TOPICS, useValue: namespacedTopics(options.topicNamespace) },
        { provide: MessagingSchema, useValue: new MessagingSchema(options.schema) },
        {
          provide: MESSAGING_METRICS,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry) => createMessagingMetrics(registry),
        },
        {
          provide: KafkaRecordSender,
          inject: [KAFKA, MESSAGING_METRICS],
          useFactory: (kafka: KafkaPort, metrics: MessagingMetrics) => new KafkaRecordSender(kafka, metrics),
        },
        {
          provide: EventPublisher,
          inject: [KafkaRecordSender],
          useFactory: (sender: KafkaRecordSender) => new EventPublisher(sender),
        },
        {
          provide: OutboxWriter,
          inject: [MessagingSchema],
          useFactory: (tables: MessagingSchema) => new OutboxWriter(tables),
        },
        OutboxRelayLifecycle,
        SenderCloser,
        provideReadinessCheck('kafka', { inject: [KAFKA], useFactory: kafkaReadinessCheck }),
      ],
      exports: [
        MESSAGING_OPTIONS,
        KAFKA,
        TOPICS,
        MessagingSchema,
        MESSAGING_METRICS,
        KafkaRecordSender,
        EventPublisher,
        OutboxWriter,
      ],
    };
  }
}

/**
 * The consumer transport of an application built with `MessagingModule`: its `@EventPattern(<topic key>)`
 * handlers — and only those topics — consume as the service's group, with the module's retry policy and
 * dead letters, on the deployment's (namespaced) topics.
 */
export function kafkaEventTransport(
  app: INestApplicationContext,
  /** A service's own run size: e.g. the audit log amortises its chain head's lock over longer runs. */
  tuning: Pick<
    KafkaEventTransportOptions,
    'recordsPerTransaction' | 'commitEveryRecords' | 'fetchMinBytes'
  > = {},
): KafkaEventTransport {
  const options = app.get<MessagingModuleOptions>(MESSAGING_OPTIONS);
  const logger = new Logger('EventConsumer');
  return new KafkaEventTransport({
    logger: {
      warn: (message, fields) => logger.warn(message, fields),
      error: (message, fields) => logger.error(message, fields),
    },
    kafka: app.get<KafkaPort>(KAFKA),
    // Environments sharing a broker must not share a group: every join would rebalance the others.
    groupId: options.topicNamespace ? `${options.topicNamespace}.${options.service}` : options.service,
    dataSource: app.get(DataSource),
    tables: app.get(MessagingSchema),
    deadLetters: app.get(KafkaRecordSender),
    retry: options.retry,
    metrics: app.get<MessagingMetrics>(MESSAGING_METRICS),
    topics: app.get<Topics>(TOPICS),
    deduplicationWindowMs: options.processedEventsRetentionMs,
    ...tuning,
    ...(options.sessionTimeoutMs
      ? {
          sessionTimeoutMs: options.sessionTimeoutMs,
          heartbeatIntervalMs: Math.max(500, options.sessionTimeoutMs / 6),
        }
      : {}),
  });
}
