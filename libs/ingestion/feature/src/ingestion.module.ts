import { SourceCatalog } from '@keel/ingestion-domain';
import { OutboxWriter, PollingLoop, TOPICS, type Topics } from '@keel/messaging';
import { METRICS_REGISTRY, PortCallTimer } from '@keel/observability';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { EventsController } from './api/events.controller';
import { HttpSubmissions } from './application/http-submissions';
import { SourceEventIngestor } from './application/source-event.ingestor';
import { SourceRawEventsController } from './consumers/source-raw-events.controller';
import { IngestionMetrics } from './ingestion.metrics';
import { type IdempotencyKeys, PostgresIdempotencyKeys } from './persistence/idempotency-keys.repository';
import { PostgresPublishBacklog, type PublishBacklog } from './persistence/publish-backlog.repository';
import { PostgresTransactions, type Transactions } from './persistence/transactions';

export interface IngestionModuleOptions {
  /** The service's Postgres schema (idempotency keys, outbox). */
  readonly schema: string;
  /** Source definitions as data (bundled files and `INGESTION_SOURCES_DIR`). */
  readonly sources: readonly unknown[];
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
          provide: SourceCatalog,
          useFactory: () => new SourceCatalog(options.sources, { maxPayloadDepth: options.maxPayloadDepth }),
        },
        {
          provide: IDEMPOTENCY_KEYS,
          inject: [PortCallTimer],
          useFactory: (timer: PortCallTimer) =>
            timer.wrap<IdempotencyKeys>('idempotency-keys', new PostgresIdempotencyKeys(options.schema)),
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
          inject: [SourceCatalog, IDEMPOTENCY_KEYS, OutboxWriter, TOPICS],
          useFactory: (catalog: SourceCatalog, keys: IdempotencyKeys, outbox: OutboxWriter, topics: Topics) =>
            new SourceEventIngestor({
              catalog,
              keys,
              outbox,
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
      ],
    };
  }
}
