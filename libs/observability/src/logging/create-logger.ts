import { hostname } from 'node:os';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

export type LogLevel = Level | 'silent';

export interface LoggerOptions {
  /** Added to every line as `service`. */
  readonly service: string;
  readonly level: LogLevel;
  /** Where lines go; stdout unless a test captures them. */
  readonly destination?: DestinationStream;
}

/**
 * One JSON object per line: `time` (ISO 8601), `level` (a name, not pino's number), `service`, `msg`,
 * plus `caseId`, `traceId`, `context` and `err` when given. Pretty-print locally with `| npx pino-pretty`.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous writes: the last lines before a crash or a process.exit are not lost.
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
