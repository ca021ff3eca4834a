import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { IngestionError } from '../ingestion.error';

/** The part of the platform's response object this filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/** Seconds a client should wait before sending again after a 503. */
const retryAfterSeconds = '5';

/**
 * Codes for what Nest and the body parser refuse before an ingestion handler runs: a body that is not JSON
 * (400) or over the limit (413, thrown by the parser as an http-errors error), the rate limit (429).
 */
const platformCodes: Readonly<Record<number, string>> = {
  400: 'invalid-request',
  404: 'not-found',
  413: 'body-too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited',
};

function platformStatus(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const { status, expose } = (error ?? {}) as { status?: unknown; expose?: unknown };
  return expose === true && typeof status === 'number' ? status : undefined;
}

/**
 * The one place ingestion errors become HTTP answers: the catalog's status, the code, a message and the
 * violations naming each field; never a stack. A 503 says when to retry. Anything else is Nest's to answer.
 */
@Catch()
export class IngestionHttpErrorFilter extends BaseExceptionFilter {
  override catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (error instanceof IngestionError) {
      if (error.httpStatus === 503) response.setHeader('Retry-After', retryAfterSeconds);
      response.status(error.httpStatus).json({
        error: error.code,
        message: error.message,
        ...(error.violations.length > 0 ? { violations: error.violations } : {}),
      });
      return;
    }
    const status = platformStatus(error);
    const code = status === undefined ? undefined : platformCodes[status];
    if (status === undefined || code === undefined) return super.catch(error, host);
    response.status(status).json({ error: code, message: (error as Error).message });
  }
}
