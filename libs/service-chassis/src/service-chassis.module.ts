import { type AccessConfig, AccessModule } from '@keel/access';
import type { ServiceConfig } from '@keel/config';
import { MessagingModule } from '@keel/messaging';
import { HealthModule, MetricsModule } from '@keel/observability';
import { PersistenceModule, type ServiceMigrations } from '@keel/persistence';
import { type DynamicModule, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';

/** What a service with an HTTP API (beyond health and metrics) needs to guard it. */
export interface ServiceHttpApiOptions {
  /** How bearer tokens are verified (`AccessGuard`, applied with `@ProtectedApi()` and `@Roles`). */
  readonly access: AccessConfig;
  /** Requests per client (IP) and replica in each window, for every `@ProtectedApi()` controller. */
  readonly rateLimit: { readonly limit: number; readonly windowMs: number };
}

export interface ServiceChassisOptions {
  readonly service: string;
  /**
   * The service's schema and migrations; they must include `messagingTablesMigration(schema)` and
   * `messagingDeliveryCountsMigration(schema)`.
   */
  readonly migrations: ServiceMigrations;
  readonly config: ServiceConfig;
  /** Set by every service that serves an API; `/health*`, `/metrics` and the OpenAPI document stay open. */
  readonly http?: ServiceHttpApiOptions;
  /** The service's statements run under generic plans (`ServiceDataSourceOptions.genericPlans`, ADR 0035). */
  readonly genericPlans?: boolean;
}

/**
 * What every Keel service stands on, configured one way: metrics on its own registry, health with
 * Postgres and Kafka readiness, its Postgres schema migrated at boot, Kafka (producer, outbox relay,
 * topics of its namespace, consumer transport settings), and for an HTTP API the access guard and the rate
 * limit (global modules, so a feature's controllers use them without importing anything).
 */
@Module({})
export class ServiceChassisModule {
  static forRoot({ service, migrations, config, http, genericPlans }: ServiceChassisOptions): DynamicModule {
    return {
      module: ServiceChassisModule,
      imports: [
        MetricsModule.forRoot({ service }),
        HealthModule.forRoot(),
        PersistenceModule.forRoot({
          ...migrations,
          url: config.DATABASE_URL,
          runMigrations: config.DB_RUN_MIGRATIONS,
          applicationName: service,
          ...(genericPlans ? { genericPlans } : {}),
        }),
        MessagingModule.forRoot({
          service,
          schema: migrations.schema,
          brokers: config.KAFKA_BROKERS,
          topicNamespace: config.KEEL_TOPIC_NAMESPACE,
          outboxPollMs: config.OUTBOX_POLL_MS,
          outboxRetentionMs: config.OUTBOX_RETENTION_HOURS * 3_600_000,
          processedEventsRetentionMs: config.PROCESSED_EVENTS_RETENTION_HOURS * 3_600_000,
          retry: {
            maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
            initialDelayMs: config.CONSUMER_RETRY_INITIAL_MS,
            multiplier: 2,
            maxDelayMs: 30_000,
          },
          sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        }),
        ...(http === undefined
          ? []
          : [
              AccessModule.forRoot(http.access),
              ThrottlerModule.forRoot({
                throttlers: [{ ttl: http.rateLimit.windowMs, limit: http.rateLimit.limit }],
              }),
            ]),
      ],
    };
  }
}
