import { metricNamingProblems, METRICS_REGISTRY, type ReadinessReport } from '@keel/observability';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import type { Registry } from 'prom-client';
import { type ScratchDatabase, scratchDatabase } from './scratch-database';
import { testKafkaBrokers } from './test-environment';

export interface ServiceAppContractOptions {
  readonly service: string;
  /** Migration names the service's schema must hold after boot, oldest first. */
  readonly migrations: readonly string[];
  /** Builds the app module from an environment, as the service's `main.ts` does. */
  readonly module: (env: Record<string, string>) => DynamicModule;
}

/**
 * What every service app must do on real Postgres and Kafka: become ready, migrate its own schema, serve
 * its metrics labelled and named by the rules. Each service's spec runs it against its own module.
 */
export function serviceAppContract({ service, migrations, module }: ServiceAppContractOptions): void {
  describe(`${service} app module`, () => {
    // A database of its own: the service's real schema name cannot clash with any other test run.
    let database: ScratchDatabase;
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      database = await scratchDatabase(`keel_${service}`);
      const env = { DATABASE_URL: database.url, KAFKA_BROKERS: testKafkaBrokers.join(','), PORT: '0' };
      app = await NestFactory.create(module(env), { logger: false });
      await app.listen(0, '127.0.0.1');
      url = await app.getUrl();
    });

    afterAll(async () => {
      await app?.close();
      await database?.drop();
    });

    it('is ready once Postgres and Kafka answer', async () => {
      const response = await fetch(`${url}/health/ready`);

      expect(response.status).toBe(200);
      const report = (await response.json()) as ReadinessReport;
      expect(report.checks.map(({ name, status }) => `${name}:${status}`).sort()).toEqual([
        'kafka:up',
        'postgres:up',
      ]);
    });

    it('has migrated its own schema', async () => {
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>(
          `SELECT name FROM "${service}".migrations ORDER BY id`,
        );
        expect(rows.map((row) => row.name)).toEqual(migrations);
      } finally {
        await client.end();
      }
    });

    it('serves its metrics, labelled with the service and named by the rules', async () => {
      const response = await fetch(`${url}/metrics`);

      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(
        new RegExp(`^process_cpu_seconds_total\\{service="${service}"\\} `, 'm'),
      );
      expect(metricNamingProblems(app.get<Registry>(METRICS_REGISTRY))).toEqual([]);
    });
  });
}
