import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/** Fields that tie a log line to a case and a trace; any other structured field may ride along. */
export interface LogBindings {
  readonly caseId?: string;
  readonly traceId?: string;
  readonly [field: string]: unknown;
}

/**
 * Nest's `LoggerService` on pino. Follows Nest's calling convention — a trailing string is the context
 * (the class logging), for `error` a string before it is the stack — and also takes structured fields:
 * `logger.warn('retrying', { caseId, attempt })` or `new Logger(Ctx).log('done', { caseId })`.
 */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly pino: Logger) {}

  /** A logger whose every line carries `bindings` (e.g. the case and trace being handled). */
  child(bindings: LogBindings): PinoLoggerService {
    return new PinoLoggerService(this.pino.child(bindings));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: readonly unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    // Nest pads with `undefined` where a caller gave no parameters before the context.
    const rest = params.filter((param) => param !== undefined);
    if (typeof rest.at(-1) === 'string') fields['context'] = rest.pop();
    for (const param of rest) {
      if (param instanceof Error) fields['err'] = param;
      else if (typeof param === 'string' && level === 'error') fields['stack'] = param;
      else if (typeof param === 'object' && param !== null) Object.assign(fields, param);
      else fields['detail'] = param;
    }
    if (message instanceof Error) {
      fields['err'] ??= message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
