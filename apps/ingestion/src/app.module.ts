import type { ServiceConfig } from '@keel/config';
import { createKafka, kafkaReadinessCheck } from '@keel/messaging';
import { HealthModule, MetricsModule, provideReadinessCheck } from '@keel/observability';
import { PersistenceModule } from '@keel/persistence';
import { type DynamicModule, Module } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { ingestionMigrations } from './persistence/migrations';

export const serviceName = 'ingestion';

/** The ingestion service validates and normalizes source events into case events and documents to index. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MetricsModule.forRoot({ service: serviceName }),
        HealthModule.forRoot(),
        PersistenceModule.forRoot({
          ...ingestionMigrations,
          url: config.DATABASE_URL,
          runMigrations: config.DB_RUN_MIGRATIONS,
          applicationName: serviceName,
        }),
      ],
      providers: [
        {
          provide: Kafka,
          useFactory: () =>
            createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? serviceName }),
        },
        provideReadinessCheck('kafka', { inject: [Kafka], useFactory: kafkaReadinessCheck }),
      ],
    };
  }
}
