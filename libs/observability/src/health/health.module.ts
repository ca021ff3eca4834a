import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HealthDetails } from './health-detail';
import { HealthController } from './health.controller';
import { HEALTH_OPTIONS, type HealthModuleOptions, ReadinessService } from './readiness.service';

/**
 * `GET /health/live`, `GET /health/ready` and `GET /health` (both, plus every detail added with
 * `provideHealthDetail`). Readiness runs every check added anywhere in the application with
 * `provideReadinessCheck`.
 */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions = {}): DynamicModule {
    return {
      module: HealthModule,
      imports: [DiscoveryModule],
      controllers: [HealthController],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }, ReadinessService, HealthDetails],
    };
  }
}
