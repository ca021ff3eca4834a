import { type KeelError, isKeelError } from '@keel/errors';
import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/** The part of the platform's response object this filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/** Seconds a client should wait before sending again after a 503. */
const retryAfterSeconds = '5';

/**
 * Codes for what Nest and the body parser refuse before a handler runs: a body that is not JSON (400) or
 * over the limit (413, thrown by the parser as an http-errors error), an unknown route, the rate limit (429).
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

/** A `KeelError`'s structured details (e.g. `violations`) go into the body beside its code and message. */
function detailsOf(error: KeelError): Record<string, unknown> {
  const { details } = error;
  return typeof details === 'object' && details !== null && !Array.isArray(details)
    ? (details as Record<string, unknown>)
    : {};
}

/**
 * The one place errors become HTTP answers, for every service (installed globally by `startServiceApp`): a
 * `KeelError` answers with its catalog's status, `{ error: code, message, ...details }`, never a stack, and a
 * 503 says when to retry; what Nest or the body parser refused gets a code of the same style. Anything else
 * is Nest's to answer (a 500 without internals). Kafka handlers keep their own filter
 * (`@KafkaEventHandlers()`), which takes precedence over this one.
 */
@Catch()
export class KeelHttpErrorFilter extends BaseExceptionFilter {
  override catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (isKeelError(error)) {
      if (error.httpStatus === 503) response.setHeader('Retry-After', retryAfterSeconds);
      response
        .status(error.httpStatus)
        .json({ error: error.code, message: error.message, ...detailsOf(error) });
      return;
    }
    const status = platformStatus(error);
    const code = status === undefined ? undefined : platformCodes[status];
    if (status === undefined || code === undefined) return super.catch(error, host);
    response.status(status).json({ error: code, message: (error as Error).message });
  }
}
