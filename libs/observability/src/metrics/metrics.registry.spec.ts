import { createMetricsRegistry, METRICS_REGISTRY, MetricsModule } from '@keel/observability';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Counter, type Registry } from 'prom-client';

describe('createMetricsRegistry', () => {
  it('labels every series with the service and collects the runtime metrics', async () => {
    const registry = createMetricsRegistry({ service: 'ingestion' });
    new Counter({ name: 'keel_things_total', help: 'h', registers: [registry] }).inc();

    const text = await registry.metrics();

    expect(text).toContain('keel_things_total{service="ingestion"} 1');
    expect(text).toMatch(/^process_cpu_seconds_total\{service="ingestion"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="ingestion"\} /m);
  });

  it('gives each application instance its own registry, so one process can build the same app twice', async () => {
    const first = createMetricsRegistry({ service: 'a', defaultMetrics: false });
    const second = createMetricsRegistry({ service: 'b', defaultMetrics: false });
    const define = (registry: Registry) =>
      new Counter({ name: 'keel_things_total', help: 'h', registers: [registry] });

    define(first).inc(2);
    define(second).inc(5);

    expect(await first.metrics()).toContain('keel_things_total{service="a"} 2');
    expect(await second.metrics()).toContain('keel_things_total{service="b"} 5');
  });
});

describe('MetricsModule', () => {
  it('serves the registry that feature modules inject, in the Prometheus text format', async () => {
    @Module({ imports: [MetricsModule.forRoot({ service: 'governance', defaultMetrics: false })] })
    class TestAppModule {}
    const app = await NestFactory.create(TestAppModule, { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      new Counter({
        name: 'keel_approvals_total',
        help: 'h',
        registers: [app.get<Registry>(METRICS_REGISTRY)],
      }).inc();

      const response = await fetch(`${await app.getUrl()}/metrics`);

      expect(response.status).toBe(200);
      // Express adds the charset; Prometheus reads the version parameter wherever it stands.
      expect(response.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
      expect(await response.text()).toContain('keel_approvals_total{service="governance"} 1');
    } finally {
      await app.close();
    }
  });
});
