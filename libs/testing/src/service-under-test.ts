import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type ScratchDatabase, scratchDatabase } from './scratch-database';
import { testKafkaBrokers } from './test-environment';

/** The token key every service under test verifies bearer tokens with (HS256), as the local stack's secret. */
export const testAccessSharedKey = 'keel-test-access-shared-key-of-at-least-32-chars';

export interface ServiceUnderTest {
  readonly app: INestApplication;
  readonly url: string;
  readonly database: ScratchDatabase;
  close(): Promise<void>;
}

/**
 * Boots a service's app module on real Kafka and a Postgres database of its own (the service's real schema
 * name cannot clash with another test run), listening on a free port, as its `main.ts` would.
 */
export async function startServiceUnderTest(
  service: string,
  module: (env: Record<string, string>) => DynamicModule,
): Promise<ServiceUnderTest> {
  const database = await scratchDatabase(`keel_${service}`);
  const env = {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: testKafkaBrokers.join(','),
    PORT: '0',
    ACCESS_SHARED_KEY: testAccessSharedKey,
  };
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(module(env), { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const started = app;
    return {
      app: started,
      url,
      database,
      close: async () => {
        await started.close();
        await database.drop();
      },
    };
  } catch (error) {
    await app?.close();
    await database.drop();
    throw error;
  }
}
