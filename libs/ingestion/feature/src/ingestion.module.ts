import { OutboxWriter, PollingLoop, TOPICS, type Topics } from '@keel/messaging';
import { METRICS_REGISTRY, PortCallTimer } from '@keel/observability';
import { GovernanceArtifacts } from '@keel/releases';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { EventsController } from './api/events.controller';
import { HttpSubmissions } from './application/http-submissions';
import { SourceEventIngestor } from './application/source-event.ingestor';
import { SourceRawEventsController } from './consumers/source-raw-events.controller';
import { IngestionMetrics } from './ingestion.metrics';
import { type IdempotencyKeys, PostgresIdempotencyKeys } from './persistence/idempotency-keys.repository';
import { PostgresPublishBacklog, type PublishBacklog } from './persistence/publish-backlog.repository';
import { PostgresSourceSchemas } from './persistence/source-schemas.repository';
import { PostgresTransactions, type Transactions } from './persistence/transactions';
import { GovernanceEventSchemas } from './schemas/governance-event-schemas';
import { LiveSourceCatalog } from './schemas/live-source-catalog';
import { SourceSchemaFollower } from './schemas/source-schema-follower';

export interface IngestionModuleOptions {
  /** The service's Postgres schema (idempotency keys, outbox). */
  readonly schema: string;
  /**
   * Source definitions as data (bundled files and `INGESTION_SOURCES_DIR`): validated at boot, stored only
   * when the service's schema holds none yet (a fresh install); from then on the stored versions are in force.
   */
  readonly sources: readonly unknown[];
  /**
   * Governance's registry, followed for versions of kind `event-schema` (a machine client's API key, viewer
   * is enough); undefined = only the stored versions.
   */
  readonly governance?: { readonly baseUrl: string; readonly apiKey: string; readonly timeoutMs: number };
  /** How often the registry and the stored versions are looked at (one list call, one count). */
  readonly schemaRefreshMs: number;
  readonly maxPayloadDepth: number;
  readonly maxBatchEvents: number;
  readonly maxPublishLagMs: number;
  readonly dedupeRetentionMs: number;
  /** CloudEvents `source` of what the service emits. */
  readonly source: string;
  readonly now?: () => Date;
}

const INGESTION_OPTIONS = Symbol('keel.ingestion-options');
const IDEMPOTENCY_KEYS = Symbol('keel.ingestion.idempotency-keys');
const PUBLISH_BACKLOG = Symbol('keel.ingestion.publish-backlog');
const TRANSACTIONS = Symbol('keel.ingestion.transactions');

/**
 * Source schema versions in force: seeded and loaded before the API and the consumer take anything, then
 * followed every `schemaRefreshMs` — new registry versions are applied without a restart.
 */
@Injectable()
class SourceSchemaFollowing implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly follower: SourceSchemaFollower;
  private readonly loop: PollingLoop;

  constructor(
    @Inject(LiveSourceCatalog) catalog: LiveSourceCatalog,
    @Inject(TRANSACTIONS) transactions: Transactions,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(INGESTION_OPTIONS) options: IngestionModuleOptions,
  ) {
    const logger = new Logger('SourceSchemas');
    this.follower = new SourceSchemaFollower({
      transactions,
      schemas: new PostgresSourceSchemas(options.schema),
      catalog,
      ...(options.governance
        ? { registry: new GovernanceEventSchemas(new GovernanceArtifacts(options.governance)) }
        : {}),
      seed: options.sources,
      maxPayloadDepth: options.maxPayloadDepth,
      outcomes: new Counter({
        name: 'keel_ingestion_schema_versions_total',
        help: 'Registry versions of kind event-schema looked at, by outcome (adopted, known, or why refused)',
        labelNames: ['outcome'],
        registers: [registry],
      }),
      logger,
    });
    this.loop = new PollingLoop(
      async () => {
        await this.follower.follow();
        return false;
      },
      {
        intervalMs: options.schemaRefreshMs,
        onError: (error) =>
          logger.warn('following source schemas failed; the versions in force stay', {
            error: String(error),
          }),
      },
    );
  }

  onModuleInit(): Promise<void> {
    return this.follower.start();
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }
}

/** Forgets idempotency keys older than the deduplication window, every minute, so the table stays bounded. */
@Injectable()
class IdempotencyKeyRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;

  constructor(
    @Inject(IDEMPOTENCY_KEYS) keys: IdempotencyKeys,
    @Inject(TRANSACTIONS) transactions: Transactions,
    @Inject(INGESTION_OPTIONS) options: IngestionModuleOptions,
  ) {
    const logger = new Logger('IdempotencyKeyRetention');
    const now = options.now ?? (() => new Date());
    const batch = 5_000;
    this.loop = new PollingLoop(
      async () => {
        const cutoff = new Date(now().getTime() - options.dedupeRetentionMs);
        const forgotten = await transactions.run((manager) => keys.forgetBefore(manager, cutoff, batch));
        return forgotten === batch;
      },
      {
        intervalMs: 60_000,
        onError: (error) => logger.error('idempotency key retention failed', { error: String(error) }),
      },
    );
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }
}

/**
 * The ingestion service's feature: `POST /v1/events` and `GET /v1/sources` (rate limited and behind bearer tokens, from `ServiceChassisModule`'s `http`), the consumer of
 * `keel.source.raw.v1`, the source catalog, idempotency keys and their retention.
 * Needs `PersistenceModule`, `MetricsModule` and `MessagingModule` in the application.
 */
@Module({})
export class IngestionModule {
  static forRoot(options: IngestionModuleOptions): DynamicModule {
    const now = options.now ?? (() => new Date());
    return {
      module: IngestionModule,
      controllers: [EventsController, SourceRawEventsController],
      providers: [
        { provide: INGESTION_OPTIONS, useValue: options },
        {
          // Compiling the seed here refuses a bad bundled file at boot, naming it.
          provide: LiveSourceCatalog,
          useFactory: () =>
            new LiveSourceCatalog(options.sources, { maxPayloadDepth: options.maxPayloadDepth }),
        },
        {
          provide: IDEMPOTENCY_KEYS,
          inject: [PortCallTimer, OutboxWriter],
          useFactory: (timer: PortCallTimer, outbox: OutboxWriter) =>
            timer.wrap<IdempotencyKeys>(
              'idempotency-keys',
              new PostgresIdempotencyKeys(options.schema, outbox),
            ),
        },
        {
          provide: PUBLISH_BACKLOG,
          inject: [PortCallTimer],
          useFactory: (timer: PortCallTimer) =>
            timer.wrap<PublishBacklog>('publish-backlog', new PostgresPublishBacklog(options.schema)),
        },
        {
          provide: TRANSACTIONS,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new PostgresTransactions(dataSource),
        },
        {
          provide: SourceEventIngestor,
          inject: [LiveSourceCatalog, IDEMPOTENCY_KEYS, TOPICS],
          useFactory: (catalog: LiveSourceCatalog, keys: IdempotencyKeys, topics: Topics) =>
            new SourceEventIngestor({
              catalog,
              keys,
              topics,
              source: options.source,
              now,
            }),
        },
        {
          provide: IngestionMetrics,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry) => new IngestionMetrics(registry),
        },
        {
          provide: HttpSubmissions,
          inject: [SourceEventIngestor, TRANSACTIONS, PUBLISH_BACKLOG, IngestionMetrics],
          useFactory: (
            ingestor: SourceEventIngestor,
            transactions: Transactions,
            backlog: PublishBacklog,
            metrics: IngestionMetrics,
          ) =>
            new HttpSubmissions(ingestor, transactions, backlog, metrics, {
              maxBatchEvents: options.maxBatchEvents,
              maxPublishLagMs: options.maxPublishLagMs,
            }),
        },
        IdempotencyKeyRetention,
        SourceSchemaFollowing,
      ],
    };
  }
}
