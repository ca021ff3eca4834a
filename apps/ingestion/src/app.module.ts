import { serviceSource } from '@keel/contracts';
import { bundledSources } from '@keel/ingestion-domain';
import { type IngestionConfig, IngestionModule, loadSourceFiles } from '@keel/ingestion-feature';
import { ServiceChassisModule } from '@keel/service-chassis';
import { type DynamicModule, Module } from '@nestjs/common';
import { ingestionMigrations } from './persistence/migrations';

export const serviceName = 'ingestion';

/** The ingestion service validates and normalizes source events into case events and documents to index. */
@Module({})
export class AppModule {
  static forRoot(config: IngestionConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceChassisModule.forRoot({
          service: serviceName,
          migrations: ingestionMigrations,
          config,
          http: {
            access: config,
            rateLimit: { limit: config.INGESTION_RATE_LIMIT, windowMs: config.INGESTION_RATE_WINDOW_MS },
          },
        }),
        IngestionModule.forRoot({
          schema: ingestionMigrations.schema,
          sources: [
            ...bundledSources,
            ...(config.INGESTION_SOURCES_DIR ? loadSourceFiles(config.INGESTION_SOURCES_DIR) : []),
          ],
          ...(config.GOVERNANCE_URL && config.GOVERNANCE_API_KEY
            ? {
                governance: {
                  baseUrl: config.GOVERNANCE_URL,
                  apiKey: config.GOVERNANCE_API_KEY,
                  timeoutMs: config.GOVERNANCE_TIMEOUT_MS,
                },
              }
            : {}),
          schemaRefreshMs: config.INGESTION_SCHEMA_REFRESH_MS,
          maxPayloadDepth: config.INGESTION_MAX_PAYLOAD_DEPTH,
          maxBatchEvents: config.INGESTION_MAX_BATCH_EVENTS,
          maxPublishLagMs: config.INGESTION_MAX_PUBLISH_LAG_MS,
          dedupeRetentionMs: config.INGESTION_DEDUPE_RETENTION_HOURS * 3_600_000,
          source: serviceSource(serviceName),
        }),
      ],
    };
  }
}
