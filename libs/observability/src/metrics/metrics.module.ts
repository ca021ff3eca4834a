import { type DynamicModule, Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { MetricsController } from './metrics.controller';
import { createMetricsRegistry, type MetricsRegistryOptions } from './metrics.registry';
import { METRICS_REGISTRY } from './metrics.tokens';
import { PortCallTimer } from './port-call.timer';

/**
 * Gives the application its own metrics registry (injected with `METRICS_REGISTRY`), a `PortCallTimer`
 * on it, and `GET /metrics`. Global, so any feature module can register its metrics on the same registry.
 */
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsRegistryOptions): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(options) },
        {
          provide: PortCallTimer,
          useFactory: (registry: Registry) => new PortCallTimer(registry),
          inject: [METRICS_REGISTRY],
        },
      ],
      exports: [METRICS_REGISTRY, PortCallTimer],
    };
  }
}
