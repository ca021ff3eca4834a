import { loadConfig } from '@keel/config';
import { metricNamingProblems, METRICS_REGISTRY, type ReadinessReport } from '@keel/observability';
import { type ScratchDatabase, scratchDatabase, testKafkaBrokers } from '@keel/testing';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import type { Registry } from 'prom-client';
import { workflowConfigSchema } from '@keel/workflow-runtime';
import { AppModule } from './app.module';

describe('workflow app module', () => {
  // A database of its own: the service's real schema name cannot clash with any other test run.
  let database: ScratchDatabase;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    database = await scratchDatabase('keel_workflow');
    const config = loadConfig(workflowConfigSchema, {
      PORT: '0',
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
    });
    app = await NestFactory.create(AppModule.forRoot(config), { logger: false });
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
      const { rows } = await client.query<{ name: string }>('SELECT name FROM workflow.migrations');
      expect(rows.map((row) => row.name)).toEqual([
        'ServiceSchema1763900000000',
        'MessagingTables1764000000000',
        'WorkflowTables1764000000100',
      ]);
    } finally {
      await client.end();
    }
  });

  it('serves its metrics, labelled with the service and named by the rules', async () => {
    const response = await fetch(`${url}/metrics`);

    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^process_cpu_seconds_total\{service="workflow"\} /m);
    expect(metricNamingProblems(app.get<Registry>(METRICS_REGISTRY))).toEqual([]);
  });
});
