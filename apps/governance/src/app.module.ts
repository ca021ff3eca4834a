import type { ServiceConfig } from '@keel/config';
import { createKafka, kafkaReadinessCheck } from '@keel/messaging';
import { HealthModule, MetricsModule, provideReadinessCheck } from '@keel/observability';
import { PersistenceModule } from '@keel/persistence';
import { type DynamicModule, Module } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { governanceMigrations } from './persistence/migrations';

export const serviceName = 'governance';

/** The governance service keeps the registry, approvals, audit log and releases of governed artifacts. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MetricsModule.forRoot({ service: serviceName }),
        HealthModule.forRoot(),
        PersistenceModule.forRoot({
          ...governanceMigrations,
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
