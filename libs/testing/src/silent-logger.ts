import { createLogger, PinoLoggerService } from '@keel/observability';
import type { LoggerService } from '@nestjs/common';

/** The service's own logger at level `silent`, for a service started inside a test process. */
export function silentLogger(service: string): LoggerService {
  return new PinoLoggerService(createLogger({ service, level: 'silent' }));
}
