import { metricNamingProblems, METRICS_REGISTRY, type ReadinessReport } from '@keel/observability';
import type { DynamicModule } from '@nestjs/common';
import { Client } from 'pg';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { type ServiceUnderTest, startServiceUnderTest } from './service-under-test';

export interface ServiceAppContractOptions {
  readonly service: string;
  /** Migration names the service's schema must hold after boot, oldest first. */
  readonly migrations: readonly string[];
  /** Builds the app module from an environment, as the service's `main.ts` does. */
  readonly module: (env: Record<string, string>) => DynamicModule;
  /** The service runs its statements under generic plans (ADR 0035); every other keeps Postgres's choice. */
  readonly genericPlans?: boolean;
}

/**
 * What every service app must do on real Postgres and Kafka: become ready, migrate its own schema, serve
 * its metrics labelled and named by the rules. Each service's spec runs it against its own module.
 */
export function serviceAppContract({
  service,
  migrations,
  module,
  genericPlans = false,
}: ServiceAppContractOptions): void {
  describe(`${service} app module`, () => {
    let started: ServiceUnderTest;
    let url: string;

    beforeAll(async () => {
      started = await startServiceUnderTest(service, module);
      url = started.url;
    });

    afterAll(async () => {
      await started?.close();
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
      const client = new Client({ connectionString: started.database.url });
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

    it(`plans its statements ${genericPlans ? 'generically' : 'as Postgres chooses'}`, async () => {
      const [setting] = await started.app
        .get(DataSource)
        .query<Array<{ plan_cache_mode: string }>>('SHOW plan_cache_mode');
      expect(setting?.plan_cache_mode).toBe(genericPlans ? 'force_generic_plan' : 'auto');
    });

    it('serves its metrics, labelled with the service and named by the rules', async () => {
      const response = await fetch(`${url}/metrics`);

      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(
        new RegExp(`^process_cpu_seconds_total\\{service="${service}"\\} `, 'm'),
      );
      expect(metricNamingProblems(started.app.get<Registry>(METRICS_REGISTRY))).toEqual([]);
    });
  });
}
