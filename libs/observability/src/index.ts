export {
  bootstrapService,
  listenConfigShape,
  type BootstrapConfig,
  type BootstrapOptions,
} from './bootstrap/bootstrap-service';
export { HealthModule } from './health/health.module';
export { provideReadinessCheck, type ReadinessCheck } from './health/readiness-check';
export { type CheckResult, type HealthModuleOptions, type ReadinessReport } from './health/readiness.service';
export { createLogger, type LoggerOptions, type LogLevel } from './logging/create-logger';
export { PinoLoggerService, type LogBindings } from './logging/pino-logger.service';
export { metricNamingProblems } from './metrics/metric-naming';
export { MetricsModule } from './metrics/metrics.module';
export { createMetricsRegistry, type MetricsRegistryOptions } from './metrics/metrics.registry';
export { METRICS_REGISTRY } from './metrics/metrics.tokens';
export { PortCallTimer } from './metrics/port-call.timer';
